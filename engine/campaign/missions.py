"""Volunteers' missions under follow-up: the register handlers write, and each volunteer's mandatory trainings.

A mission row is opened when a volunteer path enters `follow_up.bpmn` and
closed at its end: completed with the report, or terminated early (see
`engine.campaign.termination`).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.models import Establishment, ProcessInstance, TrainingRegistration, TrainingSession, VolunteerMission
from handlers.rules import TRAININGS

# The mission of a place of an instance (each handler of the follow-up asks for it), built once.
MISSION_OF_PLACE = select(VolunteerMission).where(VolunteerMission.instance_id == bindparam("instance_id"),
                                                  VolunteerMission.place == bindparam("place"))


class SqlMissions:
    """The `Missions` register a handler sees, for one instance."""

    def __init__(self, session: Session, instance_id: int, clock: Callable[[], datetime]):
        self.session = session
        self.instance_id = instance_id
        self.clock = clock

    def _mission(self, place: int) -> VolunteerMission | None:
        return self.session.scalar(MISSION_OF_PLACE, {"instance_id": self.instance_id, "place": place})

    def open(self, place: int, volunteer: dict, start_date: str, end_date: str, structure_code: str | None) -> None:
        """Record that the mission of a place is under follow-up (again, if the path was replayed)."""
        instance = self.session.get_one(ProcessInstance, self.instance_id)
        mission = self._mission(place) or VolunteerMission(instance_id=self.instance_id, place=place,
                                                           created_at=self.clock())
        establishment = self.session.get_one(Establishment, instance.establishment_id)
        mission.establishment_id, mission.department = establishment.id, establishment.department
        mission.structure_code = structure_code
        mission.first_name, mission.last_name = volunteer["first_name"], volunteer["last_name"]
        mission.birth_date, mission.email = volunteer["birth_date"], volunteer.get("email")
        mission.start_date, mission.end_date = date.fromisoformat(start_date), date.fromisoformat(end_date)
        mission.status, mission.ended_on = "in_progress", None
        mission.termination_initiator = mission.termination_reason = None
        mission.updated_at = self.clock()
        self.session.add(mission)

    def close(self, place: int, status: str, ended_on: str | None = None, termination: dict | None = None) -> None:
        """Record that the mission of a place ended: `completed`, or `terminated` early."""
        mission = self._mission(place)
        if mission is None:
            return
        mission.status = status
        mission.ended_on = date.fromisoformat(ended_on) if ended_on else None
        if termination:
            mission.termination_initiator = termination.get("initiator")
            mission.termination_reason = termination.get("reason")
        mission.updated_at = self.clock()

    def mandatory_trainings(self, place: int) -> list[dict]:
        """The mandatory trainings of the place's volunteer: kind, label, done, date."""
        mission = self._mission(place)
        return mandatory_status(self.session, mission) if mission is not None else []


def mandatory_status(session: Session, mission: VolunteerMission) -> list[dict]:
    """For each training mandatory for volunteers: whether the mission's volunteer attended one, and when."""
    attended = session.execute(
        select(TrainingSession.kind, TrainingSession.session_date)
        .join(TrainingRegistration, TrainingRegistration.session_id == TrainingSession.id)
        .where(TrainingRegistration.mission_id == mission.id, TrainingRegistration.attended.is_(True))
        .order_by(TrainingSession.session_date)
    ).all()
    first: dict[str, date] = {}
    for kind, day in attended:
        first.setdefault(kind, day)
    return [
        {"kind": kind, "label": rule["label"], "done": kind in first,
         "date": first[kind].isoformat() if kind in first else None}
        for kind, rule in TRAININGS.items() if rule["mandatory"] and rule["audience"] == "volunteers"
    ]


def missions_of(session: Session, instance_id: int) -> list[VolunteerMission]:
    """Missions of an instance, by place."""
    return list(session.scalars(select(VolunteerMission).where(VolunteerMission.instance_id == instance_id)
                                .order_by(VolunteerMission.place)))


def find_mission(session: Session, instance_id: int, place: int) -> VolunteerMission | None:
    """The mission of a place of an instance, or None."""
    return session.scalar(select(VolunteerMission).where(VolunteerMission.instance_id == instance_id,
                                                          VolunteerMission.place == place))
