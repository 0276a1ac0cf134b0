"""Who may see, organise and register for training sessions: the access rules of `engine.access` for trainings.

Organisers are the gestionnaires of the session's structure; référents, tuteurs and cotuteurs see the sessions of
their territory and register themselves or their volunteers.
"""
from __future__ import annotations

from sqlalchemy import or_, select

from engine.access import Principal
from engine.models import TrainingRegistration, VolunteerMission


def can_manage_training(principal: Principal, structure_code: str) -> bool:
    """Whether the principal organises a structure's trainings (registers anyone, records attendance)."""
    return structure_code in principal.structures


def can_see_training(principal: Principal, structure_code: str, territory: set[str] | None,
                     staff_departments: set[str]) -> bool:
    """Whether the principal sees a training session.

    `territory` holds the session's departments (None: the whole country);
    `staff_departments` those of the establishments where the principal is
    référent, tuteur or cotuteur. Organisers, process owners, national
    gestionnaires, gestionnaires of an overlapping territory and the staff of
    its schools see it.
    """
    if principal.process_owner or principal.national or can_manage_training(principal, structure_code):
        return True
    departments = principal.departments | staff_departments
    return bool(departments) and (territory is None or bool(departments & territory))


def can_register_self(principal: Principal, audience: str, territory: set[str] | None,
                      tutor_departments: set[str]) -> bool:
    """Whether the principal may register to a session themself: a tuteur or cotuteur of its territory,
    to a session for tuteurs."""
    return audience == "tutors" and bool(tutor_departments) and (
        territory is None or bool(tutor_departments & territory))


def can_register_volunteer(principal: Principal, structure_code: str, establishment_id: int) -> bool:
    """Whether the principal may register a volunteer placed in an establishment: its référent, tuteur or
    cotuteur, or the session's organiser."""
    return can_manage_training(principal, structure_code) or establishment_id in principal.all_establishments


def can_see_registration(principal: Principal, structure_code: str, registration: TrainingRegistration,
                         school_id: int | None) -> bool:
    """Whether the principal sees a registration to a session of a structure, and may cancel it.

    `school_id` is the establishment of the registered volunteer's mission (None for a tuteur). The session's
    organisers see every registration; others their own, and those of the volunteers of their schools.
    """
    return (can_manage_training(principal, structure_code) or registration.person_id == principal.person_id
            or (school_id is not None and school_id in principal.all_establishments))


def registration_filter(principal: Principal, structure_code: str):
    """SQL condition on the registrations to a session of a structure that the principal sees (as
    `can_see_registration`)."""
    if can_manage_training(principal, structure_code):
        return TrainingRegistration.id.is_not(None)
    clauses = [TrainingRegistration.person_id == principal.person_id]
    if principal.all_establishments:
        clauses.append(TrainingRegistration.mission_id.in_(select(VolunteerMission.id).where(
            VolunteerMission.establishment_id.in_(principal.all_establishments))))
    return or_(*clauses)


def can_track_trainings(principal: Principal) -> bool:
    """Whether the principal sees who misses which mandatory training: gestionnaires and process owners."""
    return principal.is_gestionnaire or principal.process_owner
