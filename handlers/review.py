"""Routing a project to its reviewing structure, and the review's own rule."""
from __future__ import annotations

from handlers.context import HandlerContext
from handlers.formats import plural


def locate_reviewers(context: HandlerContext, department: str) -> dict:
    """Service task: the Udogec, Urogec and Fnogec dedicated to Service Civique that cover the establishment's
    department; a union that is not dedicated is left out (None), so that the review goes up a level."""
    return context.directory.reviewers_for(department)


def places_within_quota(context: HandlerContext, form_data: dict, task_data: dict) -> list[tuple]:
    """Rule of the review form: the places granted cannot exceed the quota."""
    quota = task_data.get("quota")
    granted = form_data.get("places_granted")
    if form_data.get("decision") == "accept" and quota is not None and isinstance(granted, int) and granted > quota:
        return [("places_granted", f"Le quota de cet établissement est de {plural(quota, 'volontaire')} : "
                                   f"vous ne pouvez pas accorder {granted} places.")]
    return []
