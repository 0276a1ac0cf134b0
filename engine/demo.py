"""Demo data: the federation, two Udogec, an Urogec, four schools, their people and an open campaign.

Loading is idempotent: records are found by their code, UAI or login, and an
existing record is left as it is, so a second `make run` keeps what users did.
Demo accounts count as logged in once and synchronised since, so that their
tuteurs can be chosen at once; one cotuteur of Rennes, newly named in the
directory, has not logged in yet and shows why such a person is not offered.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.directory.accounts import hash_password
from engine.models import Campaign, Establishment, Person, RoleAssignment, Structure

DEMO_PASSWORD = "demo-campagne"
# Pupil counts of the demo before campaigns had a school year of their own; brought to the demo campaign's.
OLD_DEMO_COUNT_YEAR = "2023-2024"

STRUCTURES = [
    {"code": "FNOGEC", "kind": "fnogec", "name": "Fnogec", "departments": [],
     "email": "service-civique@fnogec.example.org", "phone": "+33153730000"},
    {"code": "UROGEC-BRETAGNE", "kind": "urogec", "name": "Urogec Bretagne", "departments": ["22", "29", "35", "56"],
     "email": "service-civique@urogec-bretagne.example.org", "phone": "+33299000000"},
    {"code": "UDOGEC-35", "kind": "udogec", "name": "Udogec d'Ille-et-Vilaine", "departments": ["35"],
     "email": "service-civique@udogec35.example.org", "phone": "+33299000035"},
    {"code": "UDOGEC-29", "kind": "udogec", "name": "Udogec du Finistère", "departments": ["29"],
     "email": "service-civique@udogec29.example.org", "phone": "+33298000029"},
]


class DemoEstablishment(TypedDict):
    key: str
    uai: str
    name: str
    ogec_name: str
    address: str
    postal_code: str
    city: str
    department: str
    siret: str | None
    phone: str
    network: str
    pupil_count: int


ESTABLISHMENTS: list[DemoEstablishment] = [
    {"key": "rennes", "uai": "0350781J", "name": "Collège Saint-Joseph", "ogec_name": "OGEC Saint-Joseph de Rennes",
     "address": "12 rue de Fougères", "postal_code": "35700", "city": "Rennes", "department": "35",
     "siret": "77751234500011", "phone": "+33299381200", "network": "SGEC", "pupil_count": 240},
    {"key": "brest", "uai": "0291652N", "name": "Lycée Sainte-Anne", "ogec_name": "OGEC Sainte-Anne de Brest",
     "address": "20 rue Jean Jaurès", "postal_code": "29200", "city": "Brest", "department": "29",
     "siret": "77762345600012", "phone": "+33298443000", "network": "SGEC", "pupil_count": 820},
    {"key": "pontivy", "uai": "0561433D", "name": "Lycée agricole Saint-Yves", "ogec_name": "OGEC Saint-Yves de Pontivy",
     "address": "3 route de Vannes", "postal_code": "56300", "city": "Pontivy", "department": "56",
     "siret": None, "phone": "+33297250000", "network": "CNEAP", "pupil_count": 180},
    {"key": "paris", "uai": "0754025T", "name": "École Sainte-Clotilde", "ogec_name": "OGEC Sainte-Clotilde",
     "address": "101 rue de Reuilly", "postal_code": "75012", "city": "Paris", "department": "75",
     "siret": "77784567800013", "phone": "+33143070000", "network": "SGEC", "pupil_count": 420},
]

SCHOOL_PEOPLE = {
    "rennes": [("referent", "Anne", "Le Goff", True), ("tuteur", "Thomas", "Riou", False),
               ("cotuteur", "Claire", "Morvan", False)],
    "brest": [("referent", "Jean", "Kerbrat", True), ("tuteur", "Sophie", "Le Bihan", False),
              ("cotuteur", "Yann", "Quéré", False)],
    "pontivy": [("referent", "Marie", "Jégo", True), ("tuteur", "Paul", "Le Corre", False),
                ("cotuteur", "Hélène", "Guillou", False)],
    "paris": [("referent", "François", "Dupont", True), ("tuteur", "Camille", "Bernard", False),
              ("cotuteur", "Louis", "Petit", False)],
}

# Named cotuteur of Rennes in Isidoor but not yet logged in: not offered as tuteur, and the page says why.
NEWCOMER = "julien.lemoine"

GESTIONNAIRES = [
    ("gestionnaire.fnogec", "FNOGEC", "Isabelle", "Fournier"),
    ("gestionnaire.urogec", "UROGEC-BRETAGNE", "Erwan", "Le Gall"),
    ("gestionnaire.udogec35", "UDOGEC-35", "Nathalie", "Rolland"),
    ("gestionnaire.udogec29", "UDOGEC-29", "Gildas", "Tanguy"),
]


def demo_accounts() -> list[tuple[str, str]]:
    """(login, what the account is for) of every demo account, in README order."""
    accounts = []
    for school in ESTABLISHMENTS:
        for role, *_ in SCHOOL_PEOPLE[school["key"]]:
            accounts.append((f"{role}.{school['key']}", f"{role} — {school['name']} ({school['city']})"))
    for login, code, *_ in GESTIONNAIRES:
        accounts.append((login, f"gestionnaire — {code}"))
    accounts.append(("pilote", "responsable de processus (toutes les instances)"))
    accounts.append((NEWCOMER, "cotuteur nouvellement nommé — Collège Saint-Joseph (Rennes), jamais connecté"))
    return accounts


def demo_school_year(today: date) -> str:
    """School year whose missions are being prepared: from September, the next one's.

    Projects are submitted in spring for missions starting in September, so in
    November 2026 as in March 2027 the campaign is 2027-2028.
    """
    first = today.year + 1 if today.month >= 9 else today.year
    return f"{first}-{first + 1}"


def demo_campaign(session: Session, today: date) -> Campaign:
    """The demo's campaign, opened if it does not exist: deadline at the end of May, always still ahead."""
    school_year = demo_school_year(today)
    campaign = session.scalar(select(Campaign).where(Campaign.school_year == school_year))
    if campaign is None:
        first = int(school_year[:4])
        deadline = max(date(first, 5, 31), today + timedelta(days=30))
        campaign = Campaign(school_year=school_year, pupil_count_year=school_year, submission_deadline=deadline,
                            earliest_start=max(date(first, 9, 1), deadline + timedelta(days=1)),
                            latest_start=date(first + 1, 1, 31), opened_at=datetime.now())
        session.add(campaign)
    return campaign


def load_demo_data(session: Session) -> None:
    """Create the demo directory and campaign where they do not exist yet, then commit."""
    password_hash = hash_password(DEMO_PASSWORD)
    campaign = demo_campaign(session, date.today())
    now = datetime.now()
    structures = {}
    for data in STRUCTURES:
        structure = session.scalar(select(Structure).where(Structure.code == data["code"]))
        if structure is None:
            structure = Structure(**data)
            session.add(structure)
        structures[data["code"]] = structure
    establishments = {}
    for school in ESTABLISHMENTS:
        fields = {k: v for k, v in school.items() if k != "key"}
        fields["pupil_count_year"] = campaign.pupil_count_year
        establishment = session.scalar(select(Establishment).where(Establishment.uai == school["uai"]))
        if establishment is None:
            establishment = Establishment(**fields)
            session.add(establishment)
        elif establishment.pupil_count_year == OLD_DEMO_COUNT_YEAR:
            establishment.pupil_count_year = campaign.pupil_count_year
        establishments[school["key"]] = establishment
    session.flush()
    for key, people in SCHOOL_PEOPLE.items():
        city = next(e["postal_code"] for e in ESTABLISHMENTS if e["key"] == key)
        for index, (role, first, last, head) in enumerate(people):
            person = _person(session, f"{role}.{key}", first, last, password_hash, f"+336{city[:4]}{index:03d}0", now)
            _grant(session, person, role, now, establishment=establishments[key], head=head)
    for login, code, first, last in GESTIONNAIRES:
        person = _person(session, login, first, last, password_hash, "+33299001122", now)
        _grant(session, person, "gestionnaire", now, structure=structures[code])
    owner = _person(session, "pilote", "Bénédicte", "Laurent", password_hash, "+33153730001", now)
    _grant(session, owner, "process_owner", now)
    newcomer = _person(session, NEWCOMER, "Julien", "Lemoine", password_hash, "+33612345699", None)
    _grant(session, newcomer, "cotuteur", now, establishment=establishments["rennes"])
    session.commit()


def _person(session: Session, login: str, first: str, last: str, password_hash: str | None, phone: str,
            now: datetime | None) -> Person:
    person = session.scalar(select(Person).where(Person.login == login))
    if person is None:
        person = Person(login=login, isidoor_id=f"{login}@isidoor.example.org", first_name=first, last_name=last,
                        email=f"{login}@example.org", phone=phone, password_hash=password_hash)
        session.add(person)
        session.flush()
    if now is not None and person.first_login_at is None:
        # As if they had logged in once the day before the directory's last sync.
        person.first_login_at = now - timedelta(days=1)
    return person


def _grant(session: Session, person: Person, role: str, now: datetime, establishment: Establishment | None = None,
           structure: Structure | None = None, head: bool = False) -> None:
    exists = session.scalar(select(RoleAssignment).where(
        RoleAssignment.person_id == person.id, RoleAssignment.role == role,
        RoleAssignment.establishment_id == (establishment.id if establishment else None),
        RoleAssignment.structure_id == (structure.id if structure else None),
    ))
    if exists is None:
        session.add(RoleAssignment(person=person, role=role, establishment=establishment, structure=structure,
                                   head_of_school=head, source="isidoor", synced_at=now))
    elif person.first_login_at is not None and (exists.synced_at is None or exists.synced_at < person.first_login_at):
        exists.synced_at = now
