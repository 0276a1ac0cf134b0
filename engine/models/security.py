"""Security records: API tokens (stored as hashes), web sessions and reads of volunteers' personal data."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base


class ApiToken(Base):
    """A bearer token of the JSON API; only the SHA-256 of the token is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class PersonalDataAccess(Base):
    """A gestionnaire or process owner read an instance holding a volunteer's personal data."""

    __tablename__ = "personal_data_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    # What was read ("dossier", "document") and through which door ("web", "api").
    resource: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(DateTime)


class WebSession(Base):
    """A browser's session: the signed cookie carries a random id, whose SHA-256 is the key of this row.

    Ending a session is writing `ended_at`: every server sees it at once, and every copy of the cookie stops
    opening pages.
    """

    __tablename__ = "web_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    # "password" or "isidoor": how the person logged in.
    via: Mapped[str] = mapped_column(String(10))
    # Isidoor's ID token, which the logout hands back to Isidoor; read at logout only.
    id_token: Mapped[str | None] = mapped_column(Text, deferred=True)
    # A digest of the password hash at login: a password set since then ends the session.
    credential: Mapped[str] = mapped_column(String(16))
    # Indexed for the purge of old rows at each login.
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Why it ended: see engine.directory.web_sessions.END_REASONS.
    end_reason: Mapped[str | None] = mapped_column(String(20))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(45))
