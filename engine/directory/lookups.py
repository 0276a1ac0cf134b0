"""The directory as handlers and pages read it: establishments, structures, people, contracts."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, lazyload

from engine.documents import next_version
from engine.models import (
    Establishment,
    Person,
    ProcessInstance,
    PupilCount,
    RoleAssignment,
    Structure,
    VolunteerContract,
)
from engine.models.directory import DEDICATED_TO_SERVICE_CIVIQUE, ROLE_LABELS, territory_covers
from engine.models.runtime import CONTRACT_OF_PLACE, CONTRACT_WITHOUT_PLACE
from handlers.identifiers import email_problem, phone_problem

# Directory look-ups for handlers build person cards only: a person's other roles (loaded with every person
# by default) and each role's establishment and structure are not needed.
PERSON_ONLY = (lazyload(Person.roles),)
PERSON_AND_ROLE_ONLY = (*PERSON_ONLY, lazyload(RoleAssignment.establishment), lazyload(RoleAssignment.structure))
# The INSERT … ON CONFLICT of each database the platform runs on.
UPSERTS: dict[str, Callable[[type[VolunteerContract]], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert, "sqlite": sqlite.insert}

TUTOR_ROLES = ("tuteur", "cotuteur")
# The look-ups a completion's handlers make, built once (bound by name): building a statement costs more than
# running it again from the compiled cache.
PUPIL_COUNTS = (select(PupilCount.school_year, PupilCount.pupil_count)
                .where(PupilCount.establishment_id == bindparam("establishment_id")))
PEOPLE_WITH_ROLES = (
    select(Person, RoleAssignment.role).join(RoleAssignment)
    .where(RoleAssignment.establishment_id == bindparam("establishment_id"),
           RoleAssignment.role.in_(bindparam("roles", expanding=True)), Person.active.is_(True))
    .order_by(RoleAssignment.role, Person.last_name).options(*PERSON_ONLY)
)
TUTORS = (
    select(Person, RoleAssignment).join(RoleAssignment, RoleAssignment.person_id == Person.id)
    .where(RoleAssignment.establishment_id == bindparam("establishment_id"), RoleAssignment.role.in_(TUTOR_ROLES),
           Person.active.is_(True))
    .order_by(RoleAssignment.role.desc(), Person.last_name, Person.first_name).options(*PERSON_AND_ROLE_ONLY)
)
# The structures a project may be routed to, by code: as columns, since a national directory holds a hundred
# Udogec and Urogec.
REVIEWING_STRUCTURES = (select(Structure.code, Structure.kind, Structure.departments)
                        .where(DEDICATED_TO_SERVICE_CIVIQUE).order_by(Structure.code))
# Contracts of a person, any campaign (columns, not objects: `SqlContracts.record` writes by a statement the
# session's objects would not see).
ENGAGEMENTS = (
    select(VolunteerContract.instance_id, VolunteerContract.place, VolunteerContract.start_date,
           VolunteerContract.end_date, Establishment.name, ProcessInstance.campaign)
    .join(Establishment, Establishment.id == VolunteerContract.establishment_id)
    .join(ProcessInstance, ProcessInstance.id == VolunteerContract.instance_id)
    .where(func.lower(VolunteerContract.first_name) == bindparam("first_name"),
           func.lower(VolunteerContract.last_name) == bindparam("last_name"),
           VolunteerContract.birth_date == bindparam("birth_date"))
    .order_by(VolunteerContract.start_date.desc())
)
# Shown wherever tuteurs are chosen, so that nobody wonders why a newly named person is missing.
TUTOR_CHOICE_RULE = (
    "Une personne nommée tuteur ou cotuteur dans Isidoor n'apparaît dans les choix qu'une fois son adresse "
    "électronique et son téléphone renseignés, après sa première connexion à la plateforme puis la "
    "synchronisation suivante de l'annuaire."
)


def establishment_file(establishment: Establishment) -> dict:
    """The school file as a plain dict: the school's own fields and, under their old names, its OGEC's.

    `ogec_name`, `address`, `postal_code`, `city`, `siret` and `phone` are the
    OGEC's (the legal party of documents); a school without an OGEC has none of
    them but its own postal code and city.
    """
    ogec = establishment.ogec
    return {
        "id": establishment.id,
        "uai": establishment.uai,
        "name": establishment.name,
        "ogec_name": ogec.name if ogec is not None else None,
        "address": ogec.address if ogec is not None else None,
        "postal_code": ogec.postal_code if ogec is not None else establishment.postal_code,
        "city": ogec.city if ogec is not None else establishment.city,
        "department": establishment.department,
        "siret": ogec.siret if ogec is not None else None,
        "phone": ogec.phone if ogec is not None else None,
        "network": establishment.network,
        "pupil_count": establishment.pupil_count,
        "pupil_count_year": establishment.pupil_count_year,
    }


def pupil_counts(session: Session, establishment: Establishment) -> dict[str, int]:
    """An establishment's pupil counts by school year, as the directory gave them over the years."""
    counts = dict(session.execute(PUPIL_COUNTS, {"establishment_id": establishment.id}).all())
    if establishment.pupil_count is not None and establishment.pupil_count_year:
        counts[establishment.pupil_count_year] = establishment.pupil_count
    return counts


def school_file(session: Session, establishment: Establishment) -> dict:
    """The school file with `pupil_counts`, its counts by school year, as the completeness check reads it."""
    return {**establishment_file(establishment), "pupil_counts": pupil_counts(session, establishment)}


def person_card(person: Person, role: str) -> dict:
    """What handlers and documents need to know of a person holding a role."""
    return {
        "id": person.id,
        "login": person.login,
        "name": person.full_name,
        "email": person.email,
        "phone": person.phone,
        "role": role,
        "role_label": ROLE_LABELS.get(role, role),
    }


class SqlDirectory:
    """Directory read from the database, as given to handlers.

    One is made per task of a request, and several rules and service tasks of that task ask it the same
    questions: establishments, pupil counts, structures and tuteurs are read once and kept for its lifetime. (The
    session's identity map holds objects weakly, so without this each question would query again.)
    """

    def __init__(self, session: Session):
        self.session = session
        self._establishments: dict[int, Establishment | None] = {}
        self._pupil_counts: dict[int, dict[str, int]] = {}
        self._structures: list[tuple[str, str, list[str]]] | None = None
        self._tutors: dict[int, list[dict]] = {}
        self._people: dict[tuple[int, tuple[str, ...]], list[dict]] = {}

    def _establishment(self, establishment_id: int) -> Establishment | None:
        if establishment_id not in self._establishments:
            self._establishments[establishment_id] = self.session.get(Establishment, establishment_id)
        return self._establishments[establishment_id]

    def establishment(self, establishment_id: int) -> dict | None:
        """The establishment's file, or None."""
        establishment = self._establishment(establishment_id)
        return establishment_file(establishment) if establishment is not None else None

    def pupil_counts(self, establishment_id: int) -> dict[str, int]:
        """An establishment's pupil counts by school year ("2027-2028": 420), empty when unknown."""
        if establishment_id not in self._pupil_counts:
            establishment = self._establishment(establishment_id)
            self._pupil_counts[establishment_id] = (pupil_counts(self.session, establishment)
                                                    if establishment is not None else {})
        return dict(self._pupil_counts[establishment_id])

    def reviewers_for(self, department: str) -> dict:
        """Codes of the Udogec, Urogec and Fnogec dedicated to Service Civique covering a department (None where
        absent): a union that is not dedicated is passed over, so that its projects go to the next level."""
        if self._structures is None:
            self._structures = [(code, kind, departments) for code, kind, departments
                                in self.session.execute(REVIEWING_STRUCTURES)]
        found: dict[str, str | None] = {"udogec": None, "urogec": None, "fnogec": None}
        for code, kind, departments in self._structures:
            if territory_covers(kind, departments, department):
                found[kind] = found[kind] or code
        return found

    def people(self, establishment_id: int, roles: tuple[str, ...]) -> list[dict]:
        """People holding one of `roles` in an establishment."""
        if (establishment_id, roles) not in self._people:
            self._people[establishment_id, roles] = self._read_people(establishment_id, roles)
        return [dict(card) for card in self._people[establishment_id, roles]]

    def _read_people(self, establishment_id: int, roles: tuple[str, ...]) -> list[dict]:
        rows = self.session.execute(PEOPLE_WITH_ROLES, {"establishment_id": establishment_id, "roles": list(roles)})
        return [person_card(person, role) for person, role in rows]

    def gestionnaires(self, structure_code: str) -> list[dict]:
        """The active gestionnaires of a structure."""
        rows = self.session.scalars(
            select(Person).join(RoleAssignment).join(Structure, Structure.id == RoleAssignment.structure_id)
            .where(Structure.code == structure_code, RoleAssignment.role == "gestionnaire", Person.active.is_(True))
            .order_by(Person.last_name, Person.first_name).options(*PERSON_ONLY)
        )
        return [person_card(person, "gestionnaire") for person in rows]

    def tutors(self, establishment_id: int) -> list[dict]:
        """Tuteurs and cotuteurs of an establishment, each saying whether they can be chosen and why not."""
        if establishment_id not in self._tutors:
            self._tutors[establishment_id] = tutor_statuses(self.session, establishment_id)
        return [dict(card) for card in self._tutors[establishment_id]]

    def structure(self, code: str) -> dict | None:
        """A structure (code, kind, name, email, phone), or None."""
        structure = self.session.scalar(select(Structure).where(Structure.code == code))
        if structure is None:
            return None
        return {"code": structure.code, "kind": structure.kind, "name": structure.name, "email": structure.email,
                "phone": structure.phone}


def structure_names(session: Session) -> dict[str, str]:
    """Display names of all structures by code (« UDOGEC-35 » → « Udogec d'Ille-et-Vilaine »), in one query."""
    return {code: name for code, name in session.execute(select(Structure.code, Structure.name))}


class SqlContracts:
    """Register of contracts, as given to handlers for one instance."""

    def __init__(self, session: Session, instance_id: int | None, today: date):
        self.session = session
        self.instance_id = instance_id
        self.today = today
        # Contracts already read for a person in this transaction, with the place each is for (the form's rule
        # and the service task ask the same question); recording a contract forgets them.
        self._engagements: dict[tuple[str, str, str], list[tuple[int, int | None, dict]]] = {}

    def engagements_for(self, first_name: str, last_name: str, birth_date: str,
                        place: int | None = None) -> list[dict]:
        """Every contract of the same person, any campaign, ended or not, except this instance's `place`.

        One Service Civique per person, ever: a past engagement, even ended early, counts. The person is
        recognised by name and birth date (not by email: families often share one).
        """
        key = (first_name.strip().lower(), last_name.strip().lower(), birth_date)
        if key not in self._engagements:
            self._engagements[key] = self._read_engagements(*key)
        return [dict(engagement) for instance_id, contract_place, engagement in self._engagements[key]
                if (instance_id, contract_place) != (self.instance_id, place)]

    def _read_engagements(self, first_name: str, last_name: str,
                          birth_date: str) -> list[tuple[int, int | None, dict]]:
        rows = self.session.execute(ENGAGEMENTS, {"first_name": first_name, "last_name": last_name,
                                                  "birth_date": birth_date})
        return [(instance_id, place,
                 {"instance_id": instance_id, "start_date": start_date, "end_date": end_date, "school": school,
                  "campaign": campaign, "ended": end_date < self.today.isoformat()})
                for instance_id, place, start_date, end_date, school, campaign in rows]

    def record(self, contract: dict, series: str) -> int:
        """Record the contract of a place of the current instance, replacing the one drawn up before, in one
        statement; return its version, the one its document takes next in `series`."""
        self._engagements.clear()
        values = {**contract, "instance_id": self.instance_id, "created_at": datetime.now()}
        upsert = _contract_upsert(self.session.get_bind().dialect.name, frozenset(values),
                                  contract.get("place") is not None)
        # Never NULL here: the row just took the series' latest version plus one. (Only rows older than the column
        # whose contract had no versioned document left are NULL.)
        return cast(int, self.session.execute(upsert, {**values, "of_series": series}).scalar_one())

@lru_cache(maxsize=16)
def _contract_upsert(dialect: str, columns: frozenset[str], numbered: bool) -> Any:
    """The INSERT … ON CONFLICT DO UPDATE of a contract's `columns` (bound by name), returning its version.

    The version is the next of the instance's documents in the series bound as `of_series`. Built once per
    database and set of columns: the conflict is on the place's contract (`numbered`), or on the instance's
    only one.
    """
    index = CONTRACT_OF_PLACE if numbered else CONTRACT_WITHOUT_PLACE
    values: dict[str, Any] = {name: bindparam(name) for name in columns} | {
        "version": next_version(bindparam("instance_id"), bindparam("of_series"))}
    upsert = UPSERTS[dialect](VolunteerContract).values(values)
    upsert = upsert.on_conflict_do_update(
        index_elements=list(index.expressions), index_where=index.dialect_options[dialect]["where"],
        set_={name: upsert.excluded[name] for name in values if name != "instance_id"})
    return upsert.returning(VolunteerContract.version)


def profile_problems(person: Person) -> list[str]:
    """What a person must complete in Isidoor: a valid email address and phone number (French)."""
    return [problem for problem in (email_problem(person.email), phone_problem(person.phone)) if problem]


def tutor_ineligibility(person: Person, assignment: RoleAssignment) -> str | None:
    """Why a tuteur or cotuteur cannot be chosen yet, in French, or None when they can."""
    problems = profile_problems(person)
    if problems:
        return "profil incomplet dans Isidoor : " + ", ".join(problems)
    if person.first_login_at is None:
        return "aucune connexion à la plateforme pour l'instant"
    if assignment.synced_at is None or assignment.synced_at < person.first_login_at:
        return "en attente de la prochaine synchronisation de l'annuaire"
    return None


def tutor_statuses(session: Session, establishment_id: int) -> list[dict]:
    """Every active tuteur and cotuteur of an establishment, each with whether they can be chosen and why not."""
    rows = session.execute(TUTORS, {"establishment_id": establishment_id})
    statuses = []
    for person, assignment in rows:
        reason = tutor_ineligibility(person, assignment)
        statuses.append({**person_card(person, assignment.role), "eligible": reason is None, "reason": reason})
    return statuses


def eligible_tutors(session: Session, establishment_id: int) -> list[dict]:
    """Tuteurs and cotuteurs of an establishment who may be chosen for a volunteer.

    A person qualifies when their email address and phone number are present
    and valid, they have logged in to the platform once (`Person.first_login_at`),
    and the directory was synchronised after that login
    (`RoleAssignment.synced_at` later than the first login): Isidoor passes new
    role holders on only after their first login, up to 24 hours later.
    Each item is a person card (`id`, `name`, `email`, `phone`, `role`,
    `role_label`); `TUTOR_CHOICE_RULE` is the sentence to show beside the choice.
    """
    return [status for status in tutor_statuses(session, establishment_id) if status["eligible"]]
