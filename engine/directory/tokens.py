"""Bearer tokens of the JSON API: issued after a password check, kept only as a hash, revocable with the web sessions."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, joinedload

from engine.db import rows_matched
from engine.directory.web_sessions import end_person_sessions
from engine.models import ApiToken, Person

DEFAULT_LIFETIME = timedelta(hours=8)


def token_digest(token: str) -> str:
    """SHA-256 of a token: what the database keeps, so a leaked table gives no usable token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, person: Person, now: datetime,
                lifetime: timedelta = DEFAULT_LIFETIME) -> tuple[str, ApiToken]:
    """Create a token for a person and commit; return the token itself (shown once) and its record."""
    token = secrets.token_urlsafe(32)
    record = ApiToken(person_id=person.id, token_hash=token_digest(token), created_at=now,
                      expires_at=now + lifetime)
    session.add(record)
    session.commit()
    return token, record


# One query for the token, its person and their roles: every API request starts here, so the statement is
# built once.
TOKEN_HOLDER = (select(ApiToken, Person).join(Person, Person.id == ApiToken.person_id)
                .options(joinedload(Person.roles)).where(ApiToken.token_hash == bindparam("digest")))


def person_for_token(session: Session, token: str, now: datetime) -> Person | None:
    """The active person a token belongs to, unless it is unknown, expired or revoked."""
    found = session.execute(TOKEN_HOLDER, {"digest": token_digest(token)}).unique().first()
    if found is None:
        return None
    record, person = found
    if record.revoked_at is not None or record.expires_at <= now or not person.active:
        return None
    return person


def revoke_token(session: Session, token: str, now: datetime) -> bool:
    """Revoke a token and commit; tell whether it was still valid."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.commit()
    return rows_matched(result) > 0


def open_token_count(session: Session, person_id: int, now: datetime) -> int:
    """How many API tokens of a person are neither expired nor revoked."""
    return session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.person_id == person_id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)) or 0


@dataclass(frozen=True)
class EndedSessions:
    """What ending all of a person's sessions closed: web sessions and API tokens."""

    web_sessions: int
    tokens: int


def end_all_sessions(session: Session, person_id: int, now: datetime) -> EndedSessions:
    """Revoke every API token of a person and end every web session of theirs, then commit; say how many."""
    result = session.execute(
        update(ApiToken).where(ApiToken.person_id == person_id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    tokens = rows_matched(result)
    return EndedSessions(web_sessions=end_person_sessions(session, person_id, now, "revoked"), tokens=tokens)

