"""Provisioning at a login through Isidoor: who the claims designate, and what they may change.

The directory imported from Isidoor (engine.directory.importing) is the authority
on who holds which role where. A successful OpenID Connect login:

- finds the person by Isidoor id, else by Gabriel id (heads of school), else
  records a new person, without any role;
- takes the email address and phone number from the claims when they are
  valid, as the directory's own values come from the same Isidoor profile;
- marks the first login (`Person.first_login_at`), after which the next
  directory sync makes a tuteur or cotuteur selectable
  (engine.directory.lookups.tutor_ineligibility);
- compares the roles claimed with the directory's and neither grants nor
  withdraws any: each difference becomes a `LoginDiscrepancy` that the
  gestionnaires of the territory see (engine.directory.sign_on_discrepancies).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.directory.sign_on_discrepancies import Discrepancy, record_discrepancies
from engine.errors import Refusal, rolls_back
from engine.models import Establishment, Person, RoleAssignment, Structure
from engine.models.directory import ROLE_LABELS, ROLES
from handlers.identifiers import email_problem, normalise_email, normalise_phone

log = logging.getLogger(__name__)
_UAI = re.compile(r"^\d{7}[A-Z]$")


class ProvisioningRefused(Refusal):
    """The claims cannot open a session on the platform; the message is French and safe to show."""

    status = 403


@dataclass(frozen=True)
class ClaimNames:
    """Which claims carry the Isidoor id, the Gabriel id, the email address, the phone number and the roles."""

    isidoor_id: str = "sub"
    gabriel_id: str = "gabriel_id"
    email: str = "email"
    phone: str = "phone_number"
    roles: str = "roles"


@dataclass(frozen=True)
class ClaimedRole:
    """A role as the claims state it: an establishment's UAI or a structure's code, or neither."""

    role: str
    establishment: str | None = None
    structure: str | None = None

    @property
    def scope(self) -> str | None:
        """The UAI or structure code the role is held in."""
        return self.establishment or self.structure

    def describe(self) -> str:
        """The role and where, in French."""
        label = ROLE_LABELS.get(self.role, self.role).lower()
        return f"{label} — {self.scope}" if self.scope else label


@dataclass
class Identity:
    """What the claims of one login say about the person."""

    isidoor_id: str | None
    gabriel_id: str | None = None
    email: str | None = None
    email_verified: bool | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    # None when the claims carry no roles at all: nothing is compared then.
    roles: list[ClaimedRole] | None = None
    unreadable_roles: list[str] = field(default_factory=list)


@dataclass
class ProvisioningOutcome:
    """The person logged in, whether they were recorded now, what changed and what differed."""

    person: Person
    created: bool
    changes: list[str]
    discrepancies: list[Discrepancy]


def _text(value, max_length: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text[:max_length] if text else None


def read_identity(claims: Mapping, names: ClaimNames) -> Identity:
    """Read the claims of a login with the configured claim names."""
    isidoor = _text(claims.get(names.isidoor_id), 200)
    gabriel = _text(claims.get(names.gabriel_id), 60)
    identity = Identity(
        isidoor_id=isidoor.lower() if isidoor else None,
        gabriel_id=gabriel.lower() if gabriel else None,
        email=_text(claims.get(names.email), 200),
        email_verified=claims.get("email_verified") if isinstance(claims.get("email_verified"), bool) else None,
        phone=_text(claims.get(names.phone), 40),
        first_name=_text(claims.get("given_name"), 100),
        last_name=_text(claims.get("family_name"), 100),
    )
    raw_roles = claims.get(names.roles) if names.roles else None
    if raw_roles is None:
        return identity
    identity.roles = []
    for raw in raw_roles if isinstance(raw_roles, list) else [raw_roles]:
        role = _read_role(raw)
        if role is None:
            identity.unreadable_roles.append(str(raw)[:100])
        else:
            identity.roles.append(role)
    return identity


def _read_role(raw) -> ClaimedRole | None:
    # "tuteur:0350781J", "gestionnaire:UDOGEC-35", "process_owner", or the directory file's
    # {"role": …, "establishment": …, "structure": …}.
    raw_role: object
    if isinstance(raw, str):
        raw_role, _, scope_text = raw.partition(":")
        scope = scope_text.strip().upper() or None
        establishment, structure = (scope, None) if scope and _UAI.match(scope) else (None, scope)
    elif isinstance(raw, dict):
        raw_role = raw.get("role")
        establishment = _text(raw.get("establishment"), 8)
        structure = _text(raw.get("structure"), 40)
        establishment = establishment.upper() if establishment else None
        structure = structure.upper() if structure else None
    else:
        return None
    role = raw_role.strip().lower() if isinstance(raw_role, str) else ""
    if role not in ROLES:
        return None
    return ClaimedRole(role, establishment, structure)


@rolls_back
def provision(session: Session, identity: Identity, now: datetime) -> ProvisioningOutcome:
    """Find or record the person of a login, apply what the directory allows, note what differs. Commits.

    Raises `ProvisioningRefused` when the claims designate nobody, the account
    is deactivated, or the Isidoor id is already the login of someone else.
    """
    try:
        return _provision(session, identity, now)
    except IntegrityError:
        # Two first logins of one person at once: the other recorded them; this one links to that record.
        session.rollback()
        return _provision(session, identity, now)


def _provision(session: Session, identity: Identity, now: datetime) -> ProvisioningOutcome:
    found: list[Discrepancy] = []
    person = _find(session, identity, found)
    created = person is None
    if person is None:
        person = _create(session, identity)
    if not person.active:
        raise ProvisioningRefused("Votre compte est désactivé sur la plateforme. Adressez-vous à votre Udogec ou "
                                  "au support d'Isidoor (support@isidoor.org).")
    changes = [] if created else _update_contacts(person, identity, found)
    _compare_roles(session, person, identity, found)
    place = _home(person)
    for discrepancy in found:
        if discrepancy.department is None and discrepancy.structure_code is None:
            discrepancy.department, discrepancy.structure_code = place
    person.last_login_at = now
    # The directory's next sync after this moment makes the person's roles count (engine.directory.lookups).
    person.first_login_at = person.first_login_at or now
    record_discrepancies(session, person, found, now)
    session.commit()
    if created:
        log.info("Première connexion par Isidoor : compte %s enregistré", person.login)
    return ProvisioningOutcome(person, created, changes, found)


def _find(session: Session, identity: Identity, found: list[Discrepancy]) -> Person | None:
    if identity.isidoor_id:
        person = session.scalar(select(Person).where(Person.isidoor_id == identity.isidoor_id))
        if person is not None:
            return person
    if identity.gabriel_id:
        people = list(session.scalars(select(Person).where(Person.gabriel_id == identity.gabriel_id).limit(2)))
        if len(people) == 1:
            return _link_by_gabriel(people[0], identity, found)
        if people:
            found.append(Discrepancy(
                f"identifier:gabriel:{identity.gabriel_id}", "identifier",
                f"Le code Gabriel « {identity.gabriel_id} » transmis par Isidoor est porté par plusieurs personnes "
                "de l'annuaire : la connexion n'a été rattachée à aucune d'elles.",
                {"isidoor": identity.gabriel_id}))
    if not identity.isidoor_id:
        raise ProvisioningRefused("Isidoor n'a transmis aucun identifiant qui vous désigne dans l'annuaire "
                                  "(identifiant Isidoor ou code Gabriel). Adressez-vous au support d'Isidoor "
                                  "(support@isidoor.org).")
    return None


def _link_by_gabriel(person: Person, identity: Identity, found: list[Discrepancy]) -> Person:
    if person.isidoor_id is None and identity.isidoor_id:
        person.isidoor_id = identity.isidoor_id
    elif identity.isidoor_id and person.isidoor_id != identity.isidoor_id:
        found.append(Discrepancy(
            f"identifier:isidoor:{identity.isidoor_id}", "identifier",
            f"Connexion par le code Gabriel « {identity.gabriel_id} » : Isidoor transmet l'identifiant "
            f"« {identity.isidoor_id} », l'annuaire connaît « {person.isidoor_id} ». L'annuaire est conservé.",
            {"isidoor": identity.isidoor_id, "annuaire": person.isidoor_id}))
    return person


def _create(session: Session, identity: Identity) -> Person:
    isidoor_id = identity.isidoor_id
    # `_find` refuses an identity without an Isidoor id before anyone is created.
    assert isidoor_id
    owner = session.scalar(select(Person).where(Person.login == isidoor_id))
    if owner is not None:
        raise ProvisioningRefused("Votre identifiant Isidoor est déjà celui d'un compte local de la plateforme : "
                                  "un administrateur doit rattacher ce compte à Isidoor.")
    email = normalise_email(identity.email) if identity.email and identity.email_verified is not False else None
    phone = normalise_phone(identity.phone) if identity.phone else None
    person = Person(login=isidoor_id, isidoor_id=isidoor_id, gabriel_id=identity.gabriel_id,
                    first_name=identity.first_name or isidoor_id[:100], last_name=identity.last_name or "",
                    email=email if email and email_problem(email) is None else None, phone=phone,
                    password_hash=None, active=True)
    session.add(person)
    session.flush()
    return person


def _update_contacts(person: Person, identity: Identity, found: list[Discrepancy]) -> list[str]:
    changes = []
    if identity.email:
        email = normalise_email(identity.email)
        if identity.email_verified is False:
            found.append(Discrepancy(f"contact:email:{email}", "contact",
                                     f"Adresse électronique « {email} » non vérifiée par Isidoor : l'annuaire est "
                                     "conservé.", {"isidoor": email, "annuaire": person.email}))
        elif email_problem(email) is not None:
            found.append(Discrepancy(f"contact:email:{email}", "contact",
                                     f"Adresse électronique transmise par Isidoor non valide (« {email} ») : "
                                     "l'annuaire est conservé.", {"isidoor": email, "annuaire": person.email}))
        elif email != person.email:
            person.email = email
            changes.append("adresse électronique")
    if identity.phone:
        phone = normalise_phone(identity.phone)
        if phone is None:
            found.append(Discrepancy(f"contact:phone:{identity.phone}", "contact",
                                     f"Téléphone transmis par Isidoor non valide (« {identity.phone} ») : "
                                     "l'annuaire est conservé.", {"isidoor": identity.phone, "annuaire": person.phone}))
        elif phone != person.phone:
            person.phone = phone
            changes.append("téléphone")
    return changes


def _directory_roles(person: Person) -> dict[ClaimedRole, RoleAssignment]:
    return {ClaimedRole(a.role, a.establishment.uai if a.establishment else None,
                        a.structure.code if a.structure else None): a for a in person.roles}


def _compare_roles(session: Session, person: Person, identity: Identity, found: list[Discrepancy]) -> None:
    for raw in identity.unreadable_roles:
        found.append(Discrepancy(f"unreadable:{raw}", "unreadable_role",
                                 f"Isidoor transmet un rôle illisible : « {raw} ». Rien n'a été accordé.",
                                 {"isidoor": raw}))
    if identity.roles is None:
        return
    held = _directory_roles(person)
    held_text = ", ".join(sorted(r.describe() for r in held)) or "aucun rôle"
    for claimed in dict.fromkeys(identity.roles):
        if claimed in held:
            continue
        signature = f"role:{claimed.role}:{claimed.establishment or ''}:{claimed.structure or ''}"
        details = {"isidoor": claimed.describe(), "annuaire": held_text}
        place = _place_of(session, claimed)
        if place is None:
            found.append(Discrepancy(signature, "unknown_scope",
                                     f"Isidoor indique le rôle {claimed.describe()}, mais « {claimed.scope} » est "
                                     "inconnu de l'annuaire. Rien n'a été accordé.", details,
                                     _uai_department(claimed.establishment)))
            continue
        elsewhere = [r.describe() for r in held if r.role == claimed.role]
        reason = (f"l'annuaire lui donne ce rôle ailleurs seulement ({', '.join(sorted(elsewhere))})" if elsewhere
                  else "l'annuaire ne lui donne pas ce rôle")
        found.append(Discrepancy(signature, "role_not_granted",
                                 f"Isidoor indique le rôle {claimed.describe()} ; {reason}. Rôle non accordé tant "
                                 "que l'annuaire ne le porte pas.", details, *place))
    claimed_set = set(identity.roles)
    for held_role, assignment in held.items():
        if held_role in claimed_set or assignment.source != "isidoor":
            continue
        place = (assignment.establishment.department if assignment.establishment else None,
                 assignment.structure.code if assignment.structure else None)
        found.append(Discrepancy(
            f"missing:{held_role.role}:{held_role.establishment or ''}:{held_role.structure or ''}", "role_not_claimed",
            f"L'annuaire donne le rôle {held_role.describe()}, qu'Isidoor ne transmet plus : rôle conservé jusqu'à la "
            "prochaine synchronisation de l'annuaire.", {"isidoor": "absent", "annuaire": held_role.describe()},
            *place))


def _place_of(session: Session, claimed: ClaimedRole) -> tuple[str | None, str | None] | None:
    # Where a claimed role's difference is shown: the establishment's department or the structure.
    if claimed.establishment:
        department = session.scalar(select(Establishment.department).where(Establishment.uai == claimed.establishment))
        return None if department is None else (department, None)
    if claimed.structure:
        code = session.scalar(select(Structure.code).where(Structure.code == claimed.structure))
        return None if code is None else (None, code)
    return (None, None)


def _uai_department(uai: str | None) -> str | None:
    # The first three characters of a UAI give the department (620 and 720 for Corsica).
    if not uai:
        return None
    prefix = uai[:3]
    if prefix in ("620", "720"):
        return {"620": "2A", "720": "2B"}[prefix]
    return prefix if prefix.startswith("97") else prefix[1:]


def _home(person: Person) -> tuple[str | None, str | None]:
    # Differences about the person rather than a role are shown where they work.
    for assignment in person.roles:
        if assignment.establishment is not None:
            return assignment.establishment.department, None
        if assignment.structure is not None:
            return None, assignment.structure.code
    return None, None

