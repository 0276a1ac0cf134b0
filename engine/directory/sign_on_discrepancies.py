"""Differences between Isidoor's claims and the directory: kept at each login, listed for gestionnaires."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Principal, login_discrepancy_filter, require_see_login_discrepancies
from engine.models import LoginDiscrepancy, Person

log = logging.getLogger(__name__)

KIND_LABELS = {
    "role_not_granted": "Rôle non accordé",
    "role_not_claimed": "Rôle absent d'Isidoor",
    "unknown_scope": "Établissement ou structure inconnu",
    "unreadable_role": "Rôle illisible",
    "identifier": "Identifiant",
    "contact": "Coordonnées",
}


@dataclass
class Discrepancy:
    """One difference found at a login, before it is stored."""

    signature: str
    kind: str
    message: str
    details: dict = field(default_factory=dict)
    department: str | None = None
    structure_code: str | None = None


def record_discrepancies(session: Session, person: Person, found: list[Discrepancy], now: datetime) -> None:
    """Store this login's differences: new ones, repeated ones, and resolve those gone. Does not commit."""
    existing = {row.signature: row for row in session.scalars(
        select(LoginDiscrepancy).where(LoginDiscrepancy.person_id == person.id))}
    current = set()
    for discrepancy in found:
        signature = discrepancy.signature[:300]
        if signature in current:
            continue
        current.add(signature)
        row = existing.get(signature)
        if row is None:
            log.warning("Écart Isidoor / annuaire pour %s : %s", person.login, discrepancy.message)
            session.add(LoginDiscrepancy(
                person=person, signature=signature, kind=discrepancy.kind, message=discrepancy.message[:500],
                details=discrepancy.details, department=discrepancy.department,
                structure_code=discrepancy.structure_code, first_seen_at=now, last_seen_at=now, occurrences=1))
            continue
        row.message = discrepancy.message[:500]
        row.details = discrepancy.details
        row.department, row.structure_code = discrepancy.department, discrepancy.structure_code
        row.last_seen_at = now
        row.occurrences += 1
        row.resolved_at = None
    for signature, row in existing.items():
        if signature not in current and row.resolved_at is None:
            row.resolved_at = now


def visible_discrepancies(session: Session, principal: Principal, limit: int = 500) -> list[LoginDiscrepancy]:
    """Differences a gestionnaire or process owner may see, open ones first, most recent first.

    Raises `engine.access.Forbidden` for anyone else.
    """
    require_see_login_discrepancies(principal)
    return list(session.scalars(
        select(LoginDiscrepancy).where(login_discrepancy_filter(principal))
        .order_by(LoginDiscrepancy.resolved_at.is_not(None), LoginDiscrepancy.last_seen_at.desc(),
                  LoginDiscrepancy.id.desc())
        .limit(limit)))
