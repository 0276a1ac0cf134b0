"""Service-task handlers and form rules, registered by the names the BPMN files use.

A service task's `operator` names a handler here; a user task's id names the
rules that its submitted form must also pass. Handlers receive a
`HandlerContext` and their parameters as keyword arguments and return JSON-safe
dicts.
"""
from __future__ import annotations

from typing import Callable

from handlers.campaign import submission_rules
from handlers.contract import contract_terms_rules, generate_contract
from handlers.eligibility import check_eligibility, volunteer_file_rules
from handlers.notifications import notify_referents
from handlers.offer import prepare_mission_offer
from handlers.review import locate_reviewers, places_within_quota
from handlers.school_file import check_school_file, require_complete_school_file
from handlers.training import invite_participants

HANDLERS: dict[str, Callable[..., dict]] = {
    "check_school_file": check_school_file,
    "locate_reviewers": locate_reviewers,
    "prepare_mission_offer": prepare_mission_offer,
    "check_eligibility": check_eligibility,
    "generate_contract": generate_contract,
    "notify_referents": notify_referents,
    "invite_participants": invite_participants,
}

FORM_RULES: dict[str, list[Callable[..., list[tuple]]]] = {
    "design_project": [require_complete_school_file, submission_rules],
    "review_project": [places_within_quota],
    "volunteer_file": [volunteer_file_rules],
    "draw_up_contract": [contract_terms_rules],
}
