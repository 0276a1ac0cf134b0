"""Web sessions kept in the database: opened at login, checked on every page, ended for good.

The signed cookie carries only a random id; the `web_session` row keyed by its SHA-256 says whose session it is
and whether it still holds. A row rather than a per-person « valid after » date: checking it is the one
primary-key read, joined with the person, that loading the logged-in person already cost; it also gives the idle
limit without rewriting the cookie, and lets an administrator see which sessions are open. A page writes only
when the session was last marked seen a minute ago or more.

A session ends when its person logs out, when their tokens are revoked or an administrator ends all their
sessions, when they are deactivated or get a new password, after `idle` without a page and after `lifetime`
whatever happens. Every server reads the same rows, so an end holds at once for every copy of the cookie.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session, joinedload

from engine.db import SERVER_PREPARED, rows_matched
from engine.models import Person, WebSession

# How often a page records that the session is in use: often enough for the idle limit, rarely enough that
# most pages write nothing.
SEEN_STEP = timedelta(minutes=1)
# Rows of ended sessions are kept this long after the session's lifetime, for the administrator's page.
KEPT_AFTER_END = timedelta(days=30)
END_REASONS = {
    "logout": "déconnexion",
    "revoked": "fin de toutes les sessions",
    "deactivated": "compte désactivé",
    "password": "nouveau mot de passe",
    "idle": "inactivité",
    "expired": "durée maximale atteinte",
}


@dataclass(frozen=True)
class SessionLimits:
    """How long a session lasts: without any page (`idle`), and at most (`lifetime`)."""

    idle: timedelta
    lifetime: timedelta


def session_digest(session_id: str) -> str:
    """SHA-256 of a session id: the row's key, so that a leaked table opens no session."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def credential_stamp(person: Person) -> str:
    """A short digest of the person's password hash; it changes whenever the password does."""
    return hashlib.sha256((person.password_hash or "").encode("utf-8")).hexdigest()[:16]


def open_web_session(session: Session, person: Person, now: datetime, limits: SessionLimits, *, via: str,
                     id_token: str | None = None, user_agent: str | None = None,
                     address: str | None = None) -> tuple[str, WebSession]:
    """Record a new session of a person and commit; return its id (for the cookie only) and its row.

    Every session past its lifetime for `KEPT_AFTER_END` is deleted on the way, whoever it belonged to: rows
    (with their addresses) do not outlive that, even for people who never log in again.
    """
    session.execute(delete(WebSession).where(WebSession.created_at < now - limits.lifetime - KEPT_AFTER_END))
    session_id = secrets.token_urlsafe(32)
    record = WebSession(id=session_digest(session_id), person_id=person.id, via=via, id_token=id_token,
                        credential=credential_stamp(person), created_at=now, last_seen_at=now,
                        user_agent=(user_agent or None) and user_agent[:200], address=(address or None) and address[:45])
    session.add(record)
    session.commit()
    return session_id, record


# Every page of a logged-in person starts here: the statement is built once, and brings the session, its person
# and their roles (with each role's structure) in one round trip.
SESSION_HOLDER = (select(WebSession, Person).join(Person, Person.id == WebSession.person_id)
                  .options(joinedload(Person.roles)).where(WebSession.id == bindparam("digest"))
                  .execution_options(**SERVER_PREPARED))


def end_reason(record: WebSession, person: Person, now: datetime, limits: SessionLimits) -> str | None:
    """Why this session no longer holds (a key of END_REASONS), or None while it does."""
    if record.ended_at is not None:
        return record.end_reason or "revoked"
    if not person.active:
        return "deactivated"
    if record.credential != credential_stamp(person):
        return "password"
    if now - record.created_at >= limits.lifetime:
        return "expired"
    if now - record.last_seen_at >= limits.idle:
        return "idle"
    return None


def resume_web_session(session: Session, session_id: str, now: datetime,
                       limits: SessionLimits) -> tuple[WebSession, Person] | None:
    """The session of this id and its person while it holds, marked seen; None once it has ended.

    Commits when it marks the session seen (at most once a minute) or records why it ended; call it before
    the request changes anything.
    """
    found = session.execute(SESSION_HOLDER, {"digest": session_digest(session_id)}).unique().first()
    if found is None:
        return None
    record, person = found
    reason = end_reason(record, person, now, limits)
    if reason is not None:
        if record.ended_at is None and reason == "deactivated":
            # Every session of the account ends, so that none opens again if the directory reactivates it.
            end_person_sessions(session, person.id, now, reason)
        elif record.ended_at is None:
            _end_one(session, record.id, now, reason)
        return None
    if now - record.last_seen_at >= SEEN_STEP:
        record.last_seen_at = now
        session.commit()
    return record, person


def _end_one(session: Session, digest: str, now: datetime, reason: str) -> None:
    session.execute(update(WebSession).where(WebSession.id == digest, WebSession.ended_at.is_(None))
                    .values(ended_at=now, end_reason=reason))
    session.commit()


def end_person_sessions(session: Session, person_id: int, now: datetime, reason: str) -> int:
    """End every open session of a person (`reason`, a key of END_REASONS) and commit; return how many."""
    result = session.execute(update(WebSession).where(WebSession.person_id == person_id, WebSession.ended_at.is_(None))
                             .values(ended_at=now, end_reason=reason))
    session.commit()
    return rows_matched(result)


def end_inactive_people_sessions(session: Session, now: datetime) -> int:
    """End the open sessions of every deactivated person (after a directory import) and commit; return how many."""
    inactive = select(Person.id).where(Person.active.is_(False))
    result = session.execute(update(WebSession).where(WebSession.ended_at.is_(None),
                                                      WebSession.person_id.in_(inactive))
                             .values(ended_at=now, end_reason="deactivated"))
    session.commit()
    return rows_matched(result)


@dataclass(frozen=True)
class EndedSession:
    """A session that no longer holds: its row, when it ended and why, in French."""

    record: WebSession
    ended_at: datetime
    reason: str


def person_sessions(session: Session, person: Person, now: datetime, limits: SessionLimits,
                    ended: int = 5) -> tuple[list[WebSession], list[EndedSession]]:
    """A person's open sessions, last seen first, and their `ended` latest ended ones, last ended first."""
    rows = session.scalars(select(WebSession).where(WebSession.person_id == person.id)
                           .order_by(WebSession.last_seen_at.desc())).all()
    open_rows, closed = [], []
    for row in rows:
        reason = end_reason(row, person, now, limits)
        if reason is None:
            open_rows.append(row)
        else:
            # Sessions that ran out were not necessarily seen again: their end is when they ran out.
            at = row.ended_at or {"idle": row.last_seen_at + limits.idle,
                                  "expired": row.created_at + limits.lifetime}.get(reason, now)
            closed.append(EndedSession(row, min(at, now), END_REASONS.get(reason, reason)))
    closed.sort(key=lambda item: item.ended_at, reverse=True)
    return open_rows, closed[:ended]
