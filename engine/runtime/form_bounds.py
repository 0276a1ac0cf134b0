"""Limits of a task's form taken from the Service Civique rules and from the instance's campaign.

The form files say what a value looks like; the numbers of the rules (weekly hours, host complement, length of a
training session) live in `handlers.rules`, and the window in which missions start lives in the campaign's record.
They are written into the schema when the form is served, so that the page's inputs, the API's task schema and the
handlers' rules state the same limits from one source.
"""
from __future__ import annotations

from datetime import date

from engine.forms import BOUND_MESSAGE, EARLIEST, LATEST
from handlers.formats import date_fr, french_amount
from handlers.rules import ELIGIBILITY, INDEMNITY, TRAINING_SESSION_DAYS
from handlers.training import days_fr

_MONTHS = (ELIGIBILITY["min_duration_months"], ELIGIBILITY["max_duration_months"])
_HOURS = {"minimum": ELIGIBILITY["min_weekly_hours"], "maximum": ELIGIBILITY["max_weekly_hours"],
          BOUND_MESSAGE: f"La durée hebdomadaire est comprise entre {ELIGIBILITY['min_weekly_hours']} et "
                         f"{ELIGIBILITY['max_weekly_hours']} heures ({ELIGIBILITY['max_weekly_hours_minor']} au plus "
                         "pour un volontaire mineur)."}
_HOST = INDEMNITY["host_complement_min_monthly"]

# Limits that do not depend on the instance, by task and property. The weekly hours of a minor (35 at most) depend
# on the birth date typed in the same form: the eligibility rule refuses them, the schema states the general case.
FIXED: dict[str, dict[str, dict]] = {
    "design_project": {
        "weekly_hours": _HOURS,
        "duration_months": {"minimum": _MONTHS[0], "maximum": _MONTHS[1],
                            BOUND_MESSAGE: f"Une mission dure de {_MONTHS[0]} à {_MONTHS[1]} mois."},
    },
    "volunteer_file": {"weekly_hours": _HOURS},
    "draw_up_contract": {"host_complement_amount": {
        "minimum": _HOST, BOUND_MESSAGE: f"La prestation de subsistance est d'au moins {french_amount(_HOST)} par mois."}},
    "plan_training": {"duration_days": {
        "minimum": TRAINING_SESSION_DAYS["min"], "maximum": TRAINING_SESSION_DAYS["max"],
        BOUND_MESSAGE: f"Une session dure de {days_fr(TRAINING_SESSION_DAYS['min'])} à "
                       f"{days_fr(TRAINING_SESSION_DAYS['max'])}."}},
}

# Date properties bounded by the campaign: the first day of a mission lies in the campaign's start window. The last
# day depends on the first one typed in the same form (6 to 12 months later): the eligibility rule checks it.
CAMPAIGN_STARTS: dict[str, tuple[str, ...]] = {
    "design_project": ("desired_start_date",),
    "volunteer_file": ("start_date",),
    "draw_up_contract": ("contract_start_date",),
}


def uses_campaign(task_id: str) -> bool:
    """Whether the task's form has dates bounded by the instance's campaign."""
    return task_id in CAMPAIGN_STARTS


def form_bounds(task_id: str, campaign: dict | None) -> dict[str, dict]:
    """Keywords to add to the task's properties (`minimum`, `maximum`, `x-earliest`, `x-latest`).

    `campaign` is what handlers know of the instance's campaign (`earliest_start`, `latest_start` as ISO dates),
    or None: then dates are left unbounded, as the rules leave them.
    """
    bounds = {name: dict(keywords) for name, keywords in FIXED.get(task_id, {}).items()}
    if campaign is None:
        return bounds
    earliest, latest = date.fromisoformat(campaign["earliest_start"]), date.fromisoformat(campaign["latest_start"])
    year = campaign.get("school_year", "")
    for name in CAMPAIGN_STARTS.get(task_id, ()):
        bounds[name] = {EARLIEST: earliest.isoformat(), LATEST: latest.isoformat(),
                        BOUND_MESSAGE: f"Dans la campagne {year}, les missions commencent entre le "
                                       f"{date_fr(earliest)} et le {date_fr(latest)}."}
    return bounds
