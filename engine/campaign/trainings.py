"""Training sessions (step 8): the register handlers write, registrations within capacity, attendance.

A session is planned in `training.bpmn`; its row holds what registrations
need. Volunteers under follow-up (missions in progress) are registered by
their school's référent, tuteur or cotuteur, or by the organiser; tuteurs and
cotuteurs register themselves to sessions for tuteurs. Capacity holds under
concurrency: a place is taken by one conditional UPDATE of the session's
counter in the registration's transaction.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.access import UNSEEN_TRAINING, Forbidden, Principal
from engine.db import rows_matched
from engine.directory.lookups import TUTOR_ROLES
from engine.errors import NotFound, Refusal, rolls_back
from engine.models import (
    Establishment,
    Person,
    RoleAssignment,
    Structure,
    TrainingRegistration,
    TrainingSession,
    VolunteerMission,
)
from engine.training_access import (
    can_manage_training,
    can_register_self,
    can_register_volunteer,
    can_see_registration,
    can_see_training,
    registration_filter,
)
from handlers.formats import date_fr, plural

SCHOOL_ROLES = ("referent", "tuteur", "cotuteur")


class RegistrationRefused(Refusal):
    """A registration or an attendance cannot be recorded; the message says why, in French."""

    status = 409


def territory_of(session: Session, structure_code: str, department: str | None = None) -> set[str] | None:
    """Departments a session is for: its department, else its structure's territory (None: the whole country)."""
    if department:
        return {department}
    structure = session.scalar(select(Structure).where(Structure.code == structure_code))
    if structure is None:
        return set()
    return None if structure.kind == "fnogec" else set(structure.departments)


def _in_territory(column, territory: set[str] | None):
    return column.is_not(None) if territory is None else column.in_(territory)


class SqlTrainings:
    """The `Trainings` register a handler sees, for one training instance."""

    def __init__(self, session: Session, instance_id: int, clock: Callable[[], datetime]):
        self.session = session
        self.instance_id = instance_id
        self.clock = clock

    def covers(self, structure_code: str, department: str) -> bool:
        """Whether a department lies in a structure's territory."""
        territory = territory_of(self.session, structure_code)
        return territory is None or department in territory

    def open_session(self, structure_code: str, session: dict) -> int:
        """Record the session planned by the current instance (again, if the step was replayed); return its id."""
        training = self.session.scalar(select(TrainingSession).where(TrainingSession.instance_id == self.instance_id))
        if training is None:
            training = TrainingSession(instance_id=self.instance_id, registered=0, created_at=self.clock())
            self.session.add(training)
        training.structure_code = structure_code
        training.department = session.get("department") or None
        training.kind, training.title, training.place = session["kind"], session["title"], session["place"]
        training.session_date = date.fromisoformat(session["session_date"])
        training.duration_days = float(session.get("duration_days") or 1)
        training.capacity, training.audience, training.status = session["capacity"], session["audience"], "open"
        self.session.flush()
        return training.id

    def invitees(self, session_id: int) -> list[dict]:
        """Who the session is for: volunteers of missions in progress, or tuteurs and cotuteurs, of its territory."""
        training = self.session.get_one(TrainingSession, session_id)
        territory = territory_of(self.session, training.structure_code, training.department)
        if training.audience == "tutors":
            return [{"name": person.full_name, "email": person.email}
                    for person in tutors_in(self.session, territory)]
        return [{"name": mission.volunteer_name, "email": mission.email}
                for mission in missions_in(self.session, territory)]

    def unrecorded(self, session_id: int) -> list[str]:
        """Names of the registered people whose attendance is not recorded yet."""
        return list(self.session.scalars(select(TrainingRegistration.name).where(
            TrainingRegistration.session_id == session_id, TrainingRegistration.attended.is_(None))
            .order_by(TrainingRegistration.name)))

    def close_session(self, session_id: int) -> dict:
        """Close the session; return how many were registered and how many attended."""
        training = self.session.get_one(TrainingSession, session_id)
        training.status = "closed"
        attended = sum(1 for registration in training.registrations if registration.attended)
        return {"registered": len(training.registrations), "attended": attended}


def missions_in(session: Session, territory: set[str] | None) -> list[VolunteerMission]:
    """Missions in progress in a territory, by volunteer name."""
    return list(session.scalars(
        select(VolunteerMission).where(VolunteerMission.status == "in_progress",
                                       _in_territory(VolunteerMission.department, territory))
        .order_by(VolunteerMission.last_name, VolunteerMission.first_name)))


def tutors_in(session: Session, territory: set[str] | None) -> list[Person]:
    """Active tuteurs and cotuteurs of the establishments of a territory, once each, by name."""
    return list(session.scalars(
        select(Person).where(Person.active.is_(True), Person.id.in_(
            select(RoleAssignment.person_id).join(Establishment, Establishment.id == RoleAssignment.establishment_id)
            .where(RoleAssignment.role.in_(TUTOR_ROLES), _in_territory(Establishment.department, territory))))
        .order_by(Person.last_name, Person.first_name)))


def staff_departments(session: Session, principal: Principal, roles: tuple[str, ...] = SCHOOL_ROLES) -> set[str]:
    """Departments of the establishments where the principal holds one of `roles`."""
    ids = set().union(*(principal.establishments.get(role, set()) for role in roles))
    if not ids:
        return set()
    return set(session.scalars(select(Establishment.department).where(Establishment.id.in_(ids))))


def visible_sessions(session: Session, principal: Principal) -> list[TrainingSession]:
    """Sessions the principal may see, the most recent first (sessions are few: filtered here, not in SQL)."""
    departments = staff_departments(session, principal)
    return [training for training in session.scalars(select(TrainingSession)
                                                     .order_by(TrainingSession.session_date.desc()))
            if can_see_training(principal, training.structure_code,
                                territory_of(session, training.structure_code, training.department), departments)]


def require_see(session: Session, principal: Principal, training: TrainingSession) -> None:
    """Raise `NotFound` unless the principal may see the session (as if it did not exist)."""
    territory = territory_of(session, training.structure_code, training.department)
    if not can_see_training(principal, training.structure_code, territory, staff_departments(session, principal)):
        raise NotFound(UNSEEN_TRAINING)


def visible_registrations(session: Session, principal: Principal,
                          training: TrainingSession) -> list[TrainingRegistration]:
    """The registrations to a session the principal sees (`engine.training_access.registration_filter`), by name."""
    return list(session.scalars(select(TrainingRegistration).where(
        TrainingRegistration.session_id == training.id, registration_filter(principal, training.structure_code))
        .order_by(TrainingRegistration.name, TrainingRegistration.id)))


def registerable_missions(session: Session, principal: Principal, training: TrainingSession) -> list[VolunteerMission]:
    """Volunteers the principal may still register to a session for volunteers."""
    if training.audience != "volunteers":
        return []
    taken = {r.mission_id for r in training.registrations}
    territory = territory_of(session, training.structure_code, training.department)
    return [m for m in missions_in(session, territory) if m.id not in taken
            and can_register_volunteer(principal, training.structure_code, m.establishment_id)]


def registerable_tutors(session: Session, principal: Principal, training: TrainingSession) -> list[Person]:
    """Tuteurs the organiser may still register to a session for tuteurs."""
    if training.audience != "tutors" or not can_manage_training(principal, training.structure_code):
        return []
    taken = {r.person_id for r in training.registrations}
    territory = territory_of(session, training.structure_code, training.department)
    return [person for person in tutors_in(session, territory) if person.id not in taken]


def may_register_self(session: Session, principal: Principal, training: TrainingSession) -> bool:
    """Whether the principal may register themself (a tuteur of the territory, to a session for tuteurs)."""
    territory = territory_of(session, training.structure_code, training.department)
    return (not any(r.person_id == principal.person_id for r in training.registrations)
            and can_register_self(principal, training.audience, territory,
                                  staff_departments(session, principal, TUTOR_ROLES)))


@rolls_back
def register(session: Session, principal: Principal, training: TrainingSession, now: datetime, *,
             person: Person | None = None, mission: VolunteerMission | None = None) -> TrainingRegistration:
    """Register a tuteur (`person`) or a volunteer (`mission`) within the session's capacity; commit."""
    manager = can_manage_training(principal, training.structure_code)
    if person is not None:
        allowed = (manager and person in registerable_tutors(session, principal, training)) or (
            person.id == principal.person_id and may_register_self(session, principal, training))
        name, email = person.full_name, person.email
    elif mission is not None:
        allowed = mission in registerable_missions(session, principal, training)
        name, email = mission.volunteer_name, mission.email
    else:
        raise RegistrationRefused("Indiquez qui inscrire.")
    if not allowed:
        raise Forbidden("Vous ne pouvez pas faire cette inscription : la personne n'est pas du territoire de la "
                        "session, déjà inscrite, ou hors de votre périmètre.")
    if training.status != "open" or (training.session_date < now.date() and not manager):
        raise RegistrationRefused("Les inscriptions à cette session sont closes.")
    taken = session.execute(update(TrainingSession).where(
        TrainingSession.id == training.id, TrainingSession.registered < TrainingSession.capacity)
        .values(registered=TrainingSession.registered + 1).execution_options(synchronize_session=False))
    if rows_matched(taken) != 1:
        raise RegistrationRefused(f"La session est complète ({plural(training.capacity, 'place')}) : plus aucune "
                                  "inscription n'est possible.")
    registration = TrainingRegistration(session_id=training.id, person_id=person.id if person else None,
                                        mission_id=mission.id if mission else None, name=name, email=email,
                                        registered_at=now, registered_by_id=principal.person_id)
    session.add(registration)
    try:
        session.commit()
    except IntegrityError as error:
        raise RegistrationRefused(f"{name} a déjà une inscription à cette session.") from error
    session.refresh(training)
    return registration


@rolls_back
def unregister(session: Session, principal: Principal, training: TrainingSession,
               registration: TrainingRegistration) -> None:
    """Cancel a registration before the session is closed, freeing its place; commit."""
    mission = session.get(VolunteerMission, registration.mission_id) if registration.mission_id else None
    allowed = can_see_registration(principal, training.structure_code, registration,
                                   mission.establishment_id if mission is not None else None)
    if not allowed or registration.session_id != training.id:
        raise Forbidden("Vous ne pouvez pas annuler cette inscription.")
    if training.status != "open" or registration.attended is not None:
        raise RegistrationRefused("Cette inscription ne peut plus être annulée : la présence est déjà relevée.")
    session.delete(registration)
    session.execute(update(TrainingSession).where(TrainingSession.id == training.id)
                    .values(registered=TrainingSession.registered - 1).execution_options(synchronize_session=False))
    session.commit()
    session.refresh(training)


@rolls_back
def record_attendance(session: Session, principal: Principal, training: TrainingSession,
                      presence: dict[int, bool], now: datetime) -> int:
    """Record who attended (registration id → present); return how many were recorded; commit."""
    if not can_manage_training(principal, training.structure_code):
        raise Forbidden("Seuls les gestionnaires qui organisent la session relèvent les présences.")
    if training.session_date > now.date():
        raise RegistrationRefused("Les présences se relèvent à partir du jour de la session "
                                  f"(le {date_fr(training.session_date)}).")
    if training.status != "open":
        raise RegistrationRefused("La session est close : les présences ne peuvent plus être modifiées.")
    recorded = 0
    for registration in training.registrations:
        if registration.id in presence:
            registration.attended = presence[registration.id]
            registration.attendance_recorded_at = now
            recorded += 1
    session.commit()
    return recorded
