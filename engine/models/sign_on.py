"""What single sign-on leaves in the database: differences between Isidoor's claims and the directory."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base
from engine.models.directory import Person


class LoginDiscrepancy(Base):
    """A difference between what Isidoor said at a login and what the directory holds; the directory won.

    One row per person and difference (`signature`), seen again at each login
    that repeats it and resolved when a later login no longer shows it.
    Gestionnaires see the rows of their territory: `department` (an
    establishment's) or `structure_code` (a structure's) places each row.
    """

    __tablename__ = "login_discrepancy"
    __table_args__ = (UniqueConstraint("person_id", "signature"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    # Stable key of the difference, e.g. "role:tuteur:0291652N:".
    signature: Mapped[str] = mapped_column(String(300))
    # "role_not_granted", "role_not_claimed", "unknown_scope", "unreadable_role", "identifier", "contact".
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(String(500))
    # What the claims said and what the directory holds, as shown on the gestionnaire's page.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    department: Mapped[str | None] = mapped_column(String(3), index=True)
    structure_code: Mapped[str | None] = mapped_column(String(40))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    person: Mapped[Person] = relationship(lazy="joined")
