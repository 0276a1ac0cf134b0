"""Demo directory and campaign: the federation, two Udogec, an Urogec, schools, their people and an open campaign.

`load_demo_data` creates the directory of the four first schools and the
campaign in preparation; the test suite starts from it. The demo story
(`engine.demo.story`) loads the same directory with six more schools, in
Ille-et-Vilaine, the Finistère, the Morbihan and Paris, and their pupil counts of
earlier school years. Loading is idempotent: records are found by their code,
UAI or login, and an existing record is left as it is, so a second `make run`
keeps what users did. Demo accounts count as logged in once and synchronised
since, so that their tuteurs can be chosen at once; one cotuteur of Rennes,
newly named in the directory, has not logged in yet and shows why such a person
is not offered.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.campaign.campaigns import school_year_of
from engine.demo.dates import next_school_year, preparation_dates
from engine.directory.accounts import hash_password
from engine.models import Campaign, Establishment, Ogec, Person, PupilCount, RoleAssignment, Structure

DEMO_PASSWORD = "demo-campagne"
# Pupil counts of the demo before campaigns had a school year of their own; brought to the demo campaign's.
OLD_DEMO_COUNT_YEAR = "2023-2024"

STRUCTURES = [
    {"code": "FNOGEC", "kind": "fnogec", "name": "Fnogec", "departments": [],
     "email": "service-civique@fnogec.example.org", "phone": "+33153730000", "handles_service_civique": True},
    {"code": "UROGEC-BRETAGNE", "kind": "urogec", "name": "Urogec Bretagne", "departments": ["22", "29", "35", "56"],
     "email": "service-civique@urogec-bretagne.example.org", "phone": "+33299000000",
     "handles_service_civique": True},
    {"code": "UDOGEC-35", "kind": "udogec", "name": "Udogec d'Ille-et-Vilaine", "departments": ["35"],
     "email": "service-civique@udogec35.example.org", "phone": "+33299000035", "handles_service_civique": True},
    {"code": "UDOGEC-29", "kind": "udogec", "name": "Udogec du Finistère", "departments": ["29"],
     "email": "service-civique@udogec29.example.org", "phone": "+33298000029", "handles_service_civique": True},
    # An Udogec not dedicated to Service Civique: the Morbihan's projects go up to the Urogec Bretagne.
    {"code": "UDOGEC-56", "kind": "udogec", "name": "Udogec du Morbihan", "departments": ["56"],
     "email": "contact@udogec56.example.org", "phone": "+33297000056", "handles_service_civique": False},
]
# Fields of a demo school that belong to its OGEC, and the OGEC's name for them.
OGEC_FIELDS = {"ogec_name": "name", "address": "address", "postal_code": "postal_code", "city": "city",
               "siret": "siret", "phone": "phone"}


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

# Schools of the demo story only (`engine.demo.story`): small and large, SGEC and CNEAP, reviewed by each union.
MORE_ESTABLISHMENTS: list[DemoEstablishment] = [
    {"key": "vitre", "uai": "0351234B", "name": "Collège Sainte-Marie", "ogec_name": "OGEC Sainte-Marie de Vitré",
     "address": "8 rue de la Baudrairie", "postal_code": "35500", "city": "Vitré", "department": "35",
     "siret": "77790123400016", "phone": "+33299750300", "network": "SGEC", "pupil_count": 310},
    {"key": "saint-aubin", "uai": "0351902C", "name": "Lycée agricole Notre-Dame",
     "ogec_name": "OGEC Notre-Dame de Saint-Aubin-du-Cormier", "address": "2 route de Rennes",
     "postal_code": "35140", "city": "Saint-Aubin-du-Cormier", "department": "35", "siret": "77801234500014",
     "phone": "+33299390400", "network": "CNEAP", "pupil_count": 450},
    {"key": "quimper", "uai": "0291805E", "name": "Collège Saint-Corentin", "ogec_name": "OGEC Saint-Corentin",
     "address": "5 rue Verdelet", "postal_code": "29000", "city": "Quimper", "department": "29",
     "siret": "77812345600015", "phone": "+33298950500", "network": "SGEC", "pupil_count": 510},
    {"key": "morlaix", "uai": "0291477Y", "name": "École Notre-Dame-des-Anges",
     "ogec_name": "OGEC Notre-Dame-des-Anges de Morlaix", "address": "14 rue de Brest", "postal_code": "29600",
     "city": "Morlaix", "department": "29", "siret": "77823456700015", "phone": "+33298880600", "network": "SGEC",
     "pupil_count": 150},
    {"key": "vannes", "uai": "0561290Y", "name": "Collège Sainte-Jeanne-d'Arc",
     "ogec_name": "OGEC Sainte-Jeanne-d'Arc de Vannes", "address": "30 rue Thiers", "postal_code": "56000",
     "city": "Vannes", "department": "56", "siret": "77834567800016", "phone": "+33297470700", "network": "SGEC",
     "pupil_count": 380},
    {"key": "paris16", "uai": "0753890W", "name": "Lycée Saint-Michel", "ogec_name": "OGEC Saint-Michel de Passy",
     "address": "44 rue de la Pompe", "postal_code": "75116", "city": "Paris", "department": "75",
     "siret": "77856789000018", "phone": "+33145040800", "network": "SGEC", "pupil_count": 900},
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
    "vitre": [("referent", "Catherine", "Lebreton", True), ("tuteur", "Julie", "Gaudin", False),
              ("cotuteur", "Olivier", "Chauvel", False)],
    "saint-aubin": [("referent", "Philippe", "Hervé", True), ("tuteur", "Élodie", "Bouvier", False),
                    ("cotuteur", "Damien", "Rault", False)],
    "quimper": [("referent", "Sylvie", "Le Berre", True), ("tuteur", "Gwenaël", "Cariou", False),
                ("cotuteur", "Nolwenn", "Le Floch", False)],
    "morlaix": [("referent", "Bernard", "Kerdoncuff", True), ("tuteur", "Anaïs", "Le Saout", False),
                ("cotuteur", "Ronan", "Pouliquen", False)],
    "vannes": [("referent", "Véronique", "Le Texier", True), ("tuteur", "Maxime", "Jaffré", False),
               ("cotuteur", "Sandrine", "Le Priol", False)],
    "paris16": [("referent", "Arnaud", "de Villiers", True), ("tuteur", "Hélène", "Marchand", False),
                ("cotuteur", "Vincent", "Roussel", False)],
}

# Named cotuteur of Rennes in Isidoor but not yet logged in: not offered as tuteur, and the page says why.
NEWCOMER = "julien.lemoine"

GESTIONNAIRES = [
    ("gestionnaire.fnogec", "FNOGEC", "Isabelle", "Fournier"),
    ("gestionnaire.urogec", "UROGEC-BRETAGNE", "Erwan", "Le Gall"),
    ("gestionnaire.udogec35", "UDOGEC-35", "Nathalie", "Rolland"),
    ("gestionnaire.udogec29", "UDOGEC-29", "Gildas", "Tanguy"),
]


def demo_accounts(story: bool = True) -> list[tuple[str, str]]:
    """(login, what the account is for) of every demo account, in README order (`story`: with its schools)."""
    accounts = []
    for school in ESTABLISHMENTS + (MORE_ESTABLISHMENTS if story else []):
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
    return next_school_year(school_year_of(today))


# Agrément number of the demo campaigns, shaped as the Agence du Service Civique writes national ones.
DEMO_AGREEMENT_NUMBER = "NA-000-19-00107-00"


def demo_campaign(session: Session, today: date) -> Campaign:
    """The campaign in preparation, opened if it does not exist: its submission deadline always still ahead."""
    dates = preparation_dates(today)
    campaign = session.scalar(select(Campaign).where(Campaign.school_year == dates.school_year))
    if campaign is None:
        campaign = Campaign(school_year=dates.school_year, pupil_count_year=None,
                            submission_deadline=dates.submission_deadline, earliest_start=dates.earliest_start,
                            latest_start=dates.latest_start, opened_at=dates.opened_at,
                            agreement_number=DEMO_AGREEMENT_NUMBER)
        session.add(campaign)
    return campaign


def load_demo_data(session: Session) -> None:
    """Create the directory of the four first schools and the campaign in preparation where missing, then commit."""
    campaign = demo_campaign(session, date.today())
    load_demo_directory(session, ESTABLISHMENTS, campaign.school_year, datetime.now())
    session.commit()


def load_demo_directory(session: Session, schools: list[DemoEstablishment], pupil_count_year: str, now: datetime,
                        earlier_years: tuple[str, ...] = ()) -> None:
    """Create the structures, these schools, their people, the gestionnaires and the process owner where missing.

    The pupil counts are those of `pupil_count_year`; the directory also kept a count for each of `earlier_years`
    (a few pupils fewer each year back, on the same side of the quota's threshold). People count as logged in
    the day before `now`. Flushes; the caller commits.
    """
    password_hash = hash_password(DEMO_PASSWORD)
    structures = {}
    for data in STRUCTURES:
        structure = session.scalar(select(Structure).where(Structure.code == data["code"]))
        if structure is None:
            structure = Structure(**data)
            session.add(structure)
        structures[data["code"]] = structure
    establishments = {}
    for school in schools:
        fields = {k: v for k, v in school.items() if k not in ("key", "ogec_name", "address", "siret", "phone")}
        fields["pupil_count_year"] = pupil_count_year
        establishment = session.scalar(select(Establishment).where(Establishment.uai == school["uai"]))
        if establishment is None:
            establishment = Establishment(**fields, ogec=_ogec(session, school))
            session.add(establishment)
            session.flush()
            for back, year in enumerate(sorted(earlier_years, reverse=True), start=1):
                session.add(PupilCount(establishment_id=establishment.id, school_year=year,
                                       pupil_count=school["pupil_count"] - 4 * back))
        elif establishment.pupil_count_year == OLD_DEMO_COUNT_YEAR:
            establishment.pupil_count_year = pupil_count_year
        establishments[school["key"]] = establishment
    session.flush()
    for school in schools:
        key, postal_code = school["key"], school["postal_code"]
        for index, (role, first, last, head) in enumerate(SCHOOL_PEOPLE[key]):
            person = _person(session, f"{role}.{key}", first, last, password_hash,
                             f"+336{postal_code[:4]}{index:03d}0", now)
            _grant(session, person, role, now, establishment=establishments[key], head=head)
    for login, code, first, last in GESTIONNAIRES:
        person = _person(session, login, first, last, password_hash, "+33299001122", now)
        _grant(session, person, "gestionnaire", now, structure=structures[code])
    owner = _person(session, "pilote", "Bénédicte", "Laurent", password_hash, "+33153730001", now)
    _grant(session, owner, "process_owner", now)
    if "rennes" in establishments:
        newcomer = _person(session, NEWCOMER, "Julien", "Lemoine", password_hash, "+33612345699", None)
        _grant(session, newcomer, "cotuteur", now, establishment=establishments["rennes"])
    session.flush()


def _ogec(session: Session, school: DemoEstablishment) -> Ogec:
    """The school's OGEC: the one of its SIRET when another school already brought it."""
    ogec = session.scalar(select(Ogec).where(Ogec.siret == school["siret"])) if school["siret"] else None
    if ogec is None:
        ogec = Ogec(**{field: school[key] for key, field in OGEC_FIELDS.items()})  # type: ignore[literal-required]
        session.add(ogec)
        session.flush()
    return ogec


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
