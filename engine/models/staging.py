"""Definition files uploaded from the browser, waiting for a process owner to deploy them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base

STAGED_STATUSES = {
    "pending": "À confirmer",
    "invalid": "Refusé (erreurs)",
    "deployed": "Déployé",
    "discarded": "Abandonné",
}


class StagedDeployment(Base):
    """BPMN, DMN and form files uploaded over a deployed version, validated, kept until confirmed or dropped.

    `files` holds only the uploaded files (`processes/<name>` or `forms/<name>` → text); the
    candidate version is the base deployment's files with these over them. `report` holds the
    validation problems and the summary of changes shown before confirmation.
    """

    __tablename__ = "staged_deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    base_deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id"))
    files: Mapped[dict] = mapped_column(JSON)
    report: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id"))
