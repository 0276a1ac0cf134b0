"""Local accounts: argon2id password hashes, authentication, and finding an account by what was typed."""
from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.models import Person

_HASHER = PasswordHasher()
# Verified against when the login is unknown, so that timing does not tell which logins exist.
_DUMMY_HASH = _HASHER.hash("mot de passe inexistant")


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _HASHER.hash(password)


def find_account(session: Session, identifier: str) -> Person | None:
    """The person a login form's identifier names: their login, else their email, in any case; None if nobody."""
    key = identifier.strip().lower()
    if not key or "\x00" in key:
        # PostgreSQL refuses NUL in text: such an identifier cannot exist, and must not reach the database.
        return None
    person = session.scalar(select(Person).where(func.lower(Person.login) == key))
    if person is None:
        person = session.scalar(select(Person).where(func.lower(Person.email) == key).order_by(Person.id).limit(1))
    return person


def find_people(session: Session, text: str, limit: int = 30) -> list[Person]:
    """People whose login, email or name contains `text` (any case), by last and first name; at most `limit`."""
    key = text.strip().lower()
    if not key or "\x00" in key:
        return []
    matches = [func.lower(column).contains(key, autoescape=True)
               for column in (Person.login, Person.email, Person.first_name, Person.last_name,
                              Person.first_name + " " + Person.last_name)]
    return list(session.scalars(select(Person).where(or_(*matches))
                                .order_by(Person.last_name, Person.first_name, Person.id).limit(limit)))


def authenticate(session: Session, login: str, password: str) -> Person | None:
    """Return the active person with this login (or email) and password, or None."""
    person = find_account(session, login)
    if person is None or not person.password_hash or not person.active:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(person.password_hash, password):
        return None
    if _HASHER.check_needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
    person.last_login_at = datetime.now()
    # The directory's next sync after this moment makes the person's roles count (engine.directory.lookups.eligible_tutors).
    person.first_login_at = person.first_login_at or person.last_login_at
    session.commit()
    return person


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
