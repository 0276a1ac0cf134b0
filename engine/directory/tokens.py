"""Bearer tokens of the JSON API: issued after a password check, kept only as a hash, revocable with the web sessions."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, joinedload

from engine.access import Grant, Principal
from engine.db import SERVER_PREPARED, rows_matched
from engine.directory.web_sessions import end_person_sessions
from engine.models import ApiToken, Person, RoleAssignment, Structure

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


# One query for the token, its person and their roles, built once.
TOKEN_HOLDER = (select(ApiToken, Person).join(Person, Person.id == ApiToken.person_id)
                .options(joinedload(Person.roles)).where(ApiToken.token_hash == bindparam("digest")))


# What authenticating an API request needs, as plain columns: the token's validity, the person and their roles
# (one row per role, a single row with no role for a person without any). Every API request starts here:
# loading them as ORM objects, with each role's establishment and structure, was the larger part of its
# authentication.
_TOKEN, _PERSON, _ROLE, _STRUCTURE = ApiToken.__table__, Person.__table__, RoleAssignment.__table__, Structure.__table__
TOKEN_PRINCIPAL = (
    select(_TOKEN.c.revoked_at, _TOKEN.c.expires_at, _PERSON.c.id, _PERSON.c.first_name, _PERSON.c.last_name,
           _PERSON.c.active, _ROLE.c.role, _ROLE.c.establishment_id, _STRUCTURE.c.code, _STRUCTURE.c.kind,
           _STRUCTURE.c.departments)
    .join(_PERSON, _PERSON.c.id == _TOKEN.c.person_id)
    .outerjoin(_ROLE, _ROLE.c.person_id == _PERSON.c.id)
    .outerjoin(_STRUCTURE, _STRUCTURE.c.id == _ROLE.c.structure_id)
    .where(_TOKEN.c.token_hash == bindparam("digest"))
    .execution_options(**SERVER_PREPARED)
)


def principal_for_token(session: Session, token: str, now: datetime) -> Principal | None:
    """The scopes of the active person a token belongs to, unless it is unknown, expired or revoked.

    The same checks as `person_for_token`, in one statement that loads no ORM object.
    """
    rows = session.execute(TOKEN_PRINCIPAL, {"digest": token_digest(token)}).all()
    if not rows:
        return None
    first = rows[0]
    if first.revoked_at is not None or first.expires_at <= now or not first.active:
        return None
    return Principal.from_grants(first.id, f"{first.first_name} {first.last_name}", (
        Grant(row.role, row.establishment_id, row.code, row.kind, row.departments)
        for row in rows if row.role is not None))


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

