"""The volunteer's path before the contract: choices offered and values proposed in its forms.

Prefills are pure functions of the instance data: they propose, the person
confirms or corrects. Choice providers read the directory when the form is
shown and when it is submitted, so that a tuteur who became eligible meanwhile
is offered at once.
"""
from __future__ import annotations

from datetime import date, timedelta

from handlers.context import HandlerContext
from handlers.eligibility import add_months
from handlers.rules import INDEMNITY


def school_tutors(context: HandlerContext, task_data: dict) -> list[dict]:
    """Choices of tuteur and cotuteur: the school's people the directory rules allow (email, phone, logged in once)."""
    establishment_id = task_data.get("establishment_id")
    if establishment_id is None:
        return []
    return [{"value": person["login"], "label": f"{person['name']} ({person['role_label'].lower()})"}
            for person in context.directory.tutors(establishment_id) if person.get("eligible")]


def volunteer_file_prefill(task_data: dict) -> dict:
    """The volunteer file proposed from the selected candidate and the accepted project."""
    selection = task_data.get("selection") or {}
    project = task_data.get("project") or {}
    values = {
        "first_name": selection.get("candidate_first_name"),
        "last_name": selection.get("candidate_last_name"),
        "email": selection.get("candidate_email"),
        "phone": selection.get("candidate_phone"),
        "social_criteria": "none",
        "weekly_hours": project.get("weekly_hours"),
        "mission_theme": project.get("theme"),
        "mission_description": project.get("description"),
    }
    try:
        start = date.fromisoformat(project["desired_start_date"])
        values["start_date"] = start.isoformat()
        values["end_date"] = (add_months(start, int(project["duration_months"])) - timedelta(days=1)).isoformat()
    except (KeyError, TypeError, ValueError):
        pass
    return {name: value for name, value in values.items() if value is not None}


def contract_terms_prefill(task_data: dict) -> dict:
    """The contract terms proposed from the volunteer file: its dates, the minimum host complement, the school."""
    volunteer = task_data.get("volunteer") or {}
    establishment = task_data.get("establishment") or {}
    values = {
        "contract_start_date": volunteer.get("start_date"),
        "contract_end_date": volunteer.get("end_date"),
        "host_complement_amount": INDEMNITY["host_complement_min_monthly"],
        "host_complement_in_kind": False,
        "mission_place": establishment.get("name"),
    }
    return {name: value for name, value in values.items() if value is not None}
