"""What the follow-up and trainings leave in the database: waiting timers, missions, training sessions."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base

MISSION_STATUSES = {"in_progress": "En cours", "completed": "Achevée", "terminated": "Interrompue"}
TERMINATION_INITIATORS = {
    "volunteer": "à l'initiative du volontaire",
    "school": "à l'initiative de l'établissement",
    "mutual": "d'un commun accord",
}


class Timer(Base):
    """A BPMN timer event an instance waits on, with its due time, claimed by one worker at a time."""

    __tablename__ = "timer"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"), Index("ix_timer_due", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    # The engine task waiting on the timer, and its element id in the diagram.
    task_id: Mapped[str] = mapped_column(String(36))
    spec_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime] = mapped_column(DateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)


class VolunteerMission(Base):
    """A volunteer's mission under follow-up, one per volunteer path whose contract is confirmed."""

    __tablename__ = "volunteer_mission"
    __table_args__ = (UniqueConstraint("instance_id", "place"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    place: Mapped[int] = mapped_column(Integer)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    department: Mapped[str] = mapped_column(String(3))
    # The Udogec, Urogec or Fnogec that manages the volunteer's contract.
    structure_code: Mapped[str | None] = mapped_column(String(40))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[str] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="in_progress")
    ended_on: Mapped[date | None] = mapped_column(Date)
    termination_initiator: Mapped[str | None] = mapped_column(String(12))
    termination_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    @property
    def volunteer_name(self) -> str:
        """First and last name of the volunteer."""
        return f"{self.first_name} {self.last_name}"

    @property
    def status_label(self) -> str:
        """Status in French."""
        return MISSION_STATUSES.get(self.status, self.status)


class TrainingSession(Base):
    """A training session planned by a gestionnaire: what, when, where, for whom and how many."""

    __tablename__ = "training_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), unique=True)
    structure_code: Mapped[str] = mapped_column(String(40), index=True)
    # One department of the structure's territory, or None for all of it.
    department: Mapped[str | None] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    session_date: Mapped[date] = mapped_column(Date)
    # Length in days (half days allowed): the civic training must total at least two days.
    duration_days: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
    place: Mapped[str] = mapped_column(String(300))
    capacity: Mapped[int] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(12))
    # Kept equal to the number of registrations by one conditional UPDATE, so capacity holds under concurrency.
    registered: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime)

    registrations: Mapped[list[TrainingRegistration]] = relationship(
        back_populates="session", order_by="TrainingRegistration.name", cascade="all, delete-orphan")

    @property
    def places_left(self) -> int:
        """Places still free."""
        return max(self.capacity - self.registered, 0)


class TrainingRegistration(Base):
    """Someone registered to a session: a tuteur (a person) or a volunteer (a mission), and whether they came."""

    __tablename__ = "training_registration"
    __table_args__ = (UniqueConstraint("session_id", "person_id"), UniqueConstraint("session_id", "mission_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    mission_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_mission.id", ondelete="CASCADE"),
                                                   index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    registered_at: Mapped[datetime] = mapped_column(DateTime)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    attended: Mapped[bool | None] = mapped_column(Boolean)
    attendance_recorded_at: Mapped[datetime | None] = mapped_column(DateTime)

    session: Mapped[TrainingSession] = relationship(back_populates="registrations")
