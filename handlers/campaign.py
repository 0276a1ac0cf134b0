"""Rules of the campaign on a submitted hosting project: deadline, mission start dates, quota."""
from __future__ import annotations

from handlers.context import HandlerContext
from handlers.formats import date_fr
from handlers.school_file import campaign_school_file, pupil_count_for

QUOTA_DECISION = "volunteer_quota"


def submission_rules(context: HandlerContext, form_data: dict, task_data: dict) -> list[tuple]:
    """Rule of the project form: within the deadline, start dates of the campaign, places within the quota."""
    errors: list[tuple[str | None, str]] = []
    campaign = context.campaign
    if campaign is not None:
        # A project sent back by the gestionnaire for changes may be resubmitted after the deadline.
        if not campaign["submission_open"] and "review" not in task_data:
            errors.append((None, f"La date limite de dépôt des projets de la campagne {campaign['school_year']} "
                                 f"était le {date_fr(campaign['submission_deadline'])} : le dépôt n'est plus "
                                 "possible, sauf si votre gestionnaire le rouvre pour votre établissement. "
                                 "Votre saisie est conservée."))
        start = form_data.get("desired_start_date")
        if isinstance(start, str) and not campaign["earliest_start"] <= start <= campaign["latest_start"]:
            errors.append(("desired_start_date",
                           f"Les missions de la campagne {campaign['school_year']} commencent entre le "
                           f"{date_fr(campaign['earliest_start'])} et le {date_fr(campaign['latest_start'])}."))
    requested = form_data.get("places_requested")
    establishment = campaign_school_file(context, task_data["establishment_id"]) or {}
    pupils, _year = pupil_count_for(establishment, campaign["pupil_count_year"] if campaign else None)
    if context.decisions is not None and isinstance(requested, int) and isinstance(pupils, int):
        quota = context.decisions.decide(QUOTA_DECISION, {"school_file": {"pupil_count": pupils}}).get("quota")
        if isinstance(quota, int) and requested > quota:
            errors.append(("places_requested",
                           f"Avec {pupils} élèves, le quota de l'établissement est de {quota} volontaire"
                           f"{'s' if quota > 1 else ''} : vous ne pouvez pas demander {requested} places."))
    return errors
