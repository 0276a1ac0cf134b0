"""Scenario runs started from the browser, played in the background, their progress read by any web worker."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base

SCENARIO_RUN_STATUSES = {
    "running": "En cours",
    "done": "Terminé",
    "failed": "Interrompu",
}


class ScenarioRun(Base):
    """One run of scenarios on a deployed version or on an upload, with its progress and, at the end, its result.

    The request that starts it only writes this row; a thread plays the scenarios and updates `done`,
    `current` and `updated_at` after each one, so the page polling it may be served by any worker.
    `result` holds each outcome (name, file, passed, explanation) and, with `coverage`, what the
    scenarios exercised (`engine.scenarios.runs`).
    """

    __tablename__ = "scenario_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id"))
    staged_deployment_id: Mapped[int | None] = mapped_column(ForeignKey("staged_deployment.id", ondelete="CASCADE"))
    # The one scenario file asked for; empty: every scenario.
    scenario: Mapped[str] = mapped_column(String(200), default="")
    coverage: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default="running")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    current: Mapped[str | None] = mapped_column(String(300))
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
