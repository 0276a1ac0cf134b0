"""Heartbeats of background workers, so the health check can tell a stalled timer worker."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import JSON, DateTime, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base

# Workers are named per process (host and pid): the rows of processes gone for this long are dropped.
FORGOTTEN_AFTER = timedelta(days=7)


class WorkerHeartbeat(Base):
    """The last sign of life of one named background worker (one row per worker name)."""

    __tablename__ = "worker_heartbeat"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    # Naive UTC, like every other timestamp of the schema.
    beat_at: Mapped[datetime] = mapped_column(DateTime)
    details: Mapped[dict | None] = mapped_column(JSON)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def record_heartbeat(session: Session, name: str, details: dict | None = None) -> WorkerHeartbeat:
    """Record that worker `name` is alive now; the caller commits.

    `details` is free JSON (host, pid, what the last pass did) shown by the health check. Name each
    worker process uniquely (host and pid): two processes beating under one name would hide a dead one.
    Rows of workers silent for FORGOTTEN_AFTER are dropped on the way.
    """
    now = _utcnow()
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - FORGOTTEN_AFTER)
                    .execution_options(synchronize_session=False))
    beat = session.get(WorkerHeartbeat, name)
    if beat is None:
        beat = WorkerHeartbeat(name=name)
        session.add(beat)
    beat.beat_at = now
    beat.details = details
    session.flush()
    return beat


def heartbeat_ages(session: Session, now: datetime | None = None) -> dict[str, float]:
    """Return, for every worker that ever beat, the seconds elapsed since its last beat."""
    now = now or _utcnow()
    rows = session.execute(select(WorkerHeartbeat.name, WorkerHeartbeat.beat_at)).all()
    return {name: max(0.0, (now - beat_at).total_seconds()) for name, beat_at in rows}
