"""Whom to ask: Isidoor support for access, roles and the OGEC file; one's gestionnaire for the platform."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Principal
from engine.models import Establishment, Person, RoleAssignment, Structure
from engine.models.directory import DEDICATED_TO_SERVICE_CIVIQUE, STRUCTURE_KINDS

ISIDOOR_SUPPORT = "support@isidoor.org"
# The nearest structure first: a department's Udogec, else its region's Urogec, else Fnogec.
KIND_ORDER = ("udogec", "urogec", "fnogec")


def nearest_structure(session: Session, department: str | None) -> Structure | None:
    """The structure managing Service Civique for a department: its dedicated Udogec, else its dedicated Urogec,
    else Fnogec. A union not dedicated to Service Civique is never the one to ask."""
    covering = [s for s in session.scalars(select(Structure).where(DEDICATED_TO_SERVICE_CIVIQUE))
                if s.covers(department)]
    covering.sort(key=lambda s: (KIND_ORDER.index(s.kind) if s.kind in KIND_ORDER else 9, s.code))
    return covering[0] if covering else None


def structure_contact(session: Session, structure: Structure) -> dict:
    """A structure with its own address and phone and its gestionnaires' names, addresses and phones."""
    people = session.scalars(
        select(Person).join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.structure_id == structure.id, RoleAssignment.role == "gestionnaire",
               Person.active.is_(True))
        .order_by(Person.last_name, Person.first_name)
    )
    return {
        "code": structure.code,
        "name": structure.name,
        "kind": STRUCTURE_KINDS.get(structure.kind, structure.kind),
        "email": structure.email,
        "phone": structure.phone,
        "gestionnaires": [{"name": p.full_name, "email": p.email, "phone": p.phone} for p in people],
    }


def _parent(session: Session, structure: Structure) -> Structure | None:
    # A Udogec's gestionnaires ask their region's Urogec, an Urogec's ask Fnogec.
    if structure.kind == "fnogec":
        return None
    candidates = [s for s in session.scalars(select(Structure)
                                             .where(Structure.id != structure.id, DEDICATED_TO_SERVICE_CIVIQUE))
                  if KIND_ORDER.index(s.kind) > KIND_ORDER.index(structure.kind)
                  and (s.kind == "fnogec" or set(structure.departments) & set(s.departments))]
    candidates.sort(key=lambda s: KIND_ORDER.index(s.kind))
    return candidates[0] if candidates else None


def platform_contacts(session: Session, principal: Principal) -> list[dict]:
    """The gestionnaires to ask about the platform: those of the structure managing each of one's schools."""
    structures: dict[str, Structure] = {}
    departments = session.scalars(select(Establishment.department).distinct()
                                  .where(Establishment.id.in_(principal.all_establishments)))
    for department in departments:
        structure = nearest_structure(session, department)
        if structure is not None:
            structures.setdefault(structure.code, structure)
    for own in session.scalars(select(Structure).where(Structure.code.in_(principal.structures))):
        parent = _parent(session, own)
        if parent is not None:
            structures.setdefault(parent.code, parent)
    if not structures and (principal.process_owner or principal.structures):
        fnogec = session.scalar(select(Structure).where(Structure.kind == "fnogec").limit(1))
        if fnogec is not None:
            structures[fnogec.code] = fnogec
    return [structure_contact(session, s) for s in structures.values()]


def school_file_helpers(session: Session, department: str | None) -> dict:
    """Who helps fix a school file: Isidoor support and the structure of the school's territory."""
    structure = nearest_structure(session, department)
    return {"support": ISIDOOR_SUPPORT, "structure": structure_contact(session, structure) if structure else None}
