"""Service-task handlers and form rules, registered by the names the BPMN files use.

A service task's `operator` names a handler here; a user task's id names the
rules that its submitted form must also pass. Handlers receive a
`HandlerContext` and their parameters as keyword arguments and return JSON-safe
dicts. A form property `"x-options-from": "<name>"` takes its choices from
`CHOICES[name]`; a user task's id may name a prefill in `FORM_PREFILL`, which
proposes the values of a form shown for the first time.

These tables are the only place that maps an id to a function: a module is
named after its domain, not after the task it serves (the `volunteer_file`
task's rules are `eligibility.volunteer_file_rules`, its prefill
`volunteer.volunteer_file_prefill`), so a task's code is found here by its id.
`flask processes validate` refuses a key of `FORM_RULES` or `FORM_PREFILL`
that no deployed user task has (docs/guide-analyste.md, « Une tâche, un nom »).
"""
from __future__ import annotations

from collections.abc import Callable

from handlers.campaign import submission_rules
from handlers.certificate import generate_certificate
from handlers.contract import contract_terms_rules, generate_contract, signed_contract_rules
from handlers.eligibility import check_eligibility, volunteer_file_rules
from handlers.follow_up import end_mission_early, plan_follow_up, prepare_follow_up, remind_overdue_follow_up
from handlers.notifications import notify_referents
from handlers.offer import prepare_mission_offer
from handlers.review import locate_reviewers, places_within_quota
from handlers.school_file import check_school_file, require_complete_school_file
from handlers.training import attendance_rules, close_training_session, invite_participants, plan_training_rules
from handlers.volunteer import contract_terms_prefill, school_tutors, volunteer_file_prefill

HANDLERS: dict[str, Callable[..., dict]] = {
    "check_school_file": check_school_file,
    "locate_reviewers": locate_reviewers,
    "prepare_mission_offer": prepare_mission_offer,
    "check_eligibility": check_eligibility,
    "generate_contract": generate_contract,
    "notify_referents": notify_referents,
    "invite_participants": invite_participants,
    "close_training_session": close_training_session,
    "plan_follow_up": plan_follow_up,
    "prepare_follow_up": prepare_follow_up,
    "remind_overdue_follow_up": remind_overdue_follow_up,
    "end_mission_early": end_mission_early,
    "generate_certificate": generate_certificate,
}

FORM_RULES: dict[str, list[Callable[..., list[tuple]]]] = {
    "design_project": [require_complete_school_file, submission_rules],
    "review_project": [places_within_quota],
    "volunteer_file": [volunteer_file_rules],
    "draw_up_contract": [contract_terms_rules],
    "upload_signed_contract": [signed_contract_rules],
    "plan_training": [plan_training_rules],
    "record_attendance": [attendance_rules],
}

# Choices computed when a form is shown: (context, task data) → [{"value", "label"}].
CHOICES: dict[str, Callable[..., list[dict]]] = {
    "school_tutors": school_tutors,
}

# Values proposed for a form shown for the first time: (task data) → form data.
FORM_PREFILL: dict[str, Callable[[dict], dict]] = {
    "volunteer_file": volunteer_file_prefill,
    "draw_up_contract": contract_terms_prefill,
}
