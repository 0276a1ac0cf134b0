"""What running processes leave in the database: deployments, instances, tasks, history."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base

INSTANCE_STATUSES = {
    "running": "En cours",
    "completed": "Terminé",
    "refused": "Refusé",
    "terminated": "Interrompu",
    "incident": "En incident",
}


class Deployment(Base):
    """One deployed set of BPMN/DMN files, identified by the hash of their content."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    files: Mapped[dict] = mapped_column(JSON)
    process_ids: Mapped[list] = mapped_column(JSON)
    deployed_at: Mapped[datetime] = mapped_column(DateTime)
    deployed_by: Mapped[str | None] = mapped_column(String(200))


class ProcessInstance(Base):
    """A running or finished process, with its serialised engine state (without the spec)."""

    __tablename__ = "process_instance"
    __table_args__ = (Index("ix_instance_scope", "process_id", "status", "department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    process_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"), index=True)
    department: Mapped[str | None] = mapped_column(String(3))
    structure_code: Mapped[str | None] = mapped_column(String(40))
    campaign: Mapped[str | None] = mapped_column(String(9))
    status: Mapped[str] = mapped_column(String(12), default="running")
    outcome: Mapped[str | None] = mapped_column(String(100))
    current_step: Mapped[str | None] = mapped_column(String(500))
    incident: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    deployment: Mapped[Deployment] = relationship(lazy="joined")


class TaskRow(Base):
    """A user task as the inbox sees it, kept in step with the engine state."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_inbox_establishment", "state", "lane", "establishment_id"),
        Index("ix_task_inbox_structure", "state", "lane", "structure_code"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_id: Mapped[str] = mapped_column(String(100))
    spec_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(40))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"))
    department: Mapped[str | None] = mapped_column(String(3))
    structure_code: Mapped[str | None] = mapped_column(String(40))
    place: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="ready")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    instance: Mapped[ProcessInstance] = relationship(lazy="joined")


class AuditEvent(Base):
    """Who did what and when on an instance, with the data submitted."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    spec_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    data: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime)


class Document(Base):
    """A document produced by a handler or uploaded, stored under STORAGE_DIR."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Notification(Base):
    """A message sent to someone by the platform, kept as a record of what was said."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)


class VolunteerContract(Base):
    """A Service Civique contract drawn up on the platform, to find duplicates and invite volunteers."""

    __tablename__ = "volunteer_contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[str] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[str] = mapped_column(String(10))
    end_date: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime)
