"""Who has attended which mandatory training, and who is still missing one, in a gestionnaire's territory.

The civic training (FCC) is also measured: a volunteer whose sessions attended total less than the minimum, or
whose part in the first months of the mission falls short once they are over, is flagged (`handlers.training`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Forbidden, Principal
from engine.campaign.trainings import missions_in, tutors_in
from engine.models import Establishment, RoleAssignment, TrainingRegistration, TrainingSession
from engine.training_access import can_track_trainings
from handlers.rules import CIVIC_TRAINING, TRAININGS
from handlers.training import civic_training_problems


@dataclass
class TrainingRecord:
    """One person's mandatory trainings: the date each was attended, and what is missing."""

    name: str
    where: str
    done: dict[str, date] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    mission_id: int | None = None
    # What the civic training attended lacks (too short, too late), in French.
    civic_problems: list[str] = field(default_factory=list)

    @property
    def lacking(self) -> bool:
        """Whether a mandatory training is missing or the civic training falls short."""
        return bool(self.missing or self.civic_problems)


def mandatory_kinds(audience: str) -> list[tuple[str, str]]:
    """(kind, label) of the trainings mandatory for an audience (`volunteers` or `tutors`)."""
    return [(kind, rule["label"]) for kind, rule in TRAININGS.items()
            if rule["mandatory"] and rule["audience"] == audience]


def _attended(session: Session, column, ids: list[int]) -> dict[int, dict[str, date]]:
    """For each id of `column` (mission or person), the first date each kind of training was attended."""
    found: dict[int, dict[str, date]] = {}
    if not ids:
        return found
    rows = session.execute(
        select(column, TrainingSession.kind, TrainingSession.session_date)
        .join(TrainingSession, TrainingSession.id == TrainingRegistration.session_id)
        .where(column.in_(ids), TrainingRegistration.attended.is_(True))
        .order_by(TrainingSession.session_date))
    for owner, kind, day in rows:
        found.setdefault(owner, {}).setdefault(kind, day)
    return found


def _civic_sessions(session: Session, mission_ids: list[int]) -> dict[int, list[tuple[date, float]]]:
    """For each mission, the date and length of each civic training session its volunteer attended."""
    found: dict[int, list[tuple[date, float]]] = {}
    if not mission_ids:
        return found
    rows = session.execute(
        select(TrainingRegistration.mission_id, TrainingSession.session_date, TrainingSession.duration_days)
        .join(TrainingSession, TrainingSession.id == TrainingRegistration.session_id)
        .where(TrainingRegistration.mission_id.in_(mission_ids), TrainingRegistration.attended.is_(True),
               TrainingSession.kind == CIVIC_TRAINING["kind"]))
    for mission_id, day, days in rows:
        if mission_id is not None:
            found.setdefault(mission_id, []).append((day, days))
    return found


def _record(name: str, where: str, done: dict[str, date], kinds: list[tuple[str, str]], **extra) -> TrainingRecord:
    return TrainingRecord(name=name, where=where, done=done,
                          missing=[label for kind, label in kinds if kind not in done], **extra)


def training_tracking(session: Session, principal: Principal, today: date | None = None) -> dict:
    """Mandatory trainings of the volunteers under follow-up and of the tuteurs of the principal's territory.

    `today` decides whether the first months of a mission are over (the system's date by default).
    """
    today = today or date.today()
    if not can_track_trainings(principal):
        raise Forbidden("Ce suivi est réservé aux gestionnaires.")
    territory = None if principal.process_owner or principal.national else set(principal.departments)
    schools: dict[int | None, str] = dict(session.execute(select(Establishment.id, Establishment.name)).all())
    volunteer_kinds, tutor_kinds = mandatory_kinds("volunteers"), mandatory_kinds("tutors")
    missions = missions_in(session, territory)
    attended = _attended(session, TrainingRegistration.mission_id, [m.id for m in missions])
    civic = _civic_sessions(session, [m.id for m in missions])
    volunteers = [_record(m.volunteer_name, schools.get(m.establishment_id, ""), attended.get(m.id, {}),
                          volunteer_kinds, mission_id=m.id,
                          civic_problems=civic_training_problems(m.start_date, civic.get(m.id, []), today))
                  for m in missions]
    tutors = tutors_in(session, territory)
    attended = _attended(session, TrainingRegistration.person_id, [p.id for p in tutors])
    where: dict[int, list[str]] = {}
    for person_id, establishment_id in session.execute(
            select(RoleAssignment.person_id, RoleAssignment.establishment_id)
            .where(RoleAssignment.person_id.in_([p.id for p in tutors]), RoleAssignment.role.in_(("tuteur",
                                                                                                  "cotuteur")))):
        where.setdefault(person_id, []).append(schools.get(establishment_id, ""))
    tutor_records = [_record(p.full_name, ", ".join(sorted(set(where.get(p.id, [])))), attended.get(p.id, {}),
                             tutor_kinds) for p in tutors]
    return {"volunteer_kinds": volunteer_kinds, "volunteers": volunteers, "civic_kind": CIVIC_TRAINING["kind"],
            "tutor_kinds": tutor_kinds, "tutors": tutor_records}
