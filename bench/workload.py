"""The work the benchmarks give the platform: schools, people, and the campaign's tasks with valid data.

Form data comes from the samples the tests use, with dates moved into the
open campaign's window and the volunteer's name made unique per instance (a
person may hold only one Service Civique contract).
"""
from __future__ import annotations

import atexit
import copy
import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from bench.measure import ROOT
from engine.campaign.campaigns import current_campaign
from engine.db import make_engine, make_session_factory, upgrade_database
from engine.demo.directory import load_demo_data
from engine.directory.accounts import hash_password
from engine.models import Campaign, Establishment, Ogec, Person, RoleAssignment, Structure
from engine.runtime.deployment import deploy, read_definition_files
from handlers.identifiers import UAI_LETTERS, with_luhn_key

SAMPLES = json.loads((ROOT / "tests" / "form_samples.json").read_text(encoding="utf-8"))
LOOP_DIR = Path(__file__).resolve().parent / "loop"

# The task whose service task renders the contract's PDF: a document cost, left out of the HTTP load.
CONTRACT_TASK = "draw_up_contract"
# Follow-up meetings recorded before the mission is declared over.
FOLLOW_UPS = 2
# A bound on the user tasks of one instance, should a process loop where the samples do not end it.
MAX_STEPS = 40
REVIEWER = "gestionnaire.udogec35"
DEPARTMENT = "35"


@dataclass
class School:
    """A benchmark school with its référent and tuteur."""

    establishment_id: int
    referent_id: int
    tuteur_id: int


def definition_files(with_loop: bool = False) -> dict[str, str]:
    """The campaign's BPMN, DMN and forms, with the benchmark's looping process if asked."""
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    if with_loop:
        files["processes/bench_loop.bpmn"] = (LOOP_DIR / "bench_loop.bpmn").read_text(encoding="utf-8")
        files["forms/bench_meeting.schema.json"] = (LOOP_DIR / "bench_meeting.schema.json").read_text(
            encoding="utf-8")
    return files


def prepare(url: str, with_loop: bool = False) -> sessionmaker:
    """Migrate a database, deploy the processes and load the demo directory; return a session factory.

    A SQLite database prepared once in a process is kept as a template and copied for the next ones:
    the benchmarks create many, and preparing is not what they measure.
    """
    path = Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
    template = _TEMPLATES.get(with_loop)
    if path is not None and template is not None and template.exists():
        shutil.copyfile(template, path)
        return make_session_factory(make_engine(url))
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        deploy(session, definition_files(with_loop), actor="bench")
        load_demo_data(session)
    if path is not None:
        engine.dispose()
        folder = Path(tempfile.mkdtemp(prefix="bench-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _TEMPLATES[with_loop] = folder / "template.db"
        shutil.copyfile(path, _TEMPLATES[with_loop])
    return sessions


# Prepared SQLite databases of this process, by whether the looping process is deployed.
_TEMPLATES: dict[bool, Path] = {}


def uai(department: str, number: int) -> str:
    """A valid UAI in a two-digit department (numbers below 10,000)."""
    if not 0 <= number < 10000:
        raise ValueError(f"numéro d'établissement hors limites : {number}")
    first_seven = f"0{department}{number:04d}"
    return first_seven + UAI_LETTERS[int(first_seven) % 23]


def siret(number: int) -> str:
    """A valid SIRET (Luhn key) built from a number."""
    return with_luhn_key(f"{800000000 + number:09d}0001")


def add_schools(session: Session, count: int, first_number: int = 1000) -> list[School]:
    """Create `count` schools with complete files in Ille-et-Vilaine, each with a référent and a tuteur."""
    campaign = current_campaign(session)
    now = datetime.now()
    password = hash_password("bench-" + str(first_number))
    ogec_ids = list(session.scalars(insert(Ogec).returning(Ogec.id, sort_by_parameter_order=True), [
        {"name": f"OGEC Saint-Bench {first_number + n}", "address": f"{n + 1} rue de la Mesure",
         "postal_code": "35000", "city": "Rennes", "siret": siret(first_number + n), "phone": "+33299000000"}
        for n in range(count)]))
    rows = [{"uai": uai(DEPARTMENT, first_number + n), "name": f"Collège Saint-Bench n° {first_number + n}",
             "ogec_id": ogec_ids[n], "postal_code": "35000", "city": "Rennes", "department": DEPARTMENT,
             "network": "SGEC", "pupil_count": 240, "pupil_count_year": campaign.pupil_count_year}
            for n in range(count)]
    session.execute(insert(Establishment), rows)
    ids = dict(session.execute(select(Establishment.uai, Establishment.id)
                               .where(Establishment.uai.in_([r["uai"] for r in rows]))).all())
    people = []
    for n in range(len(rows)):
        for role in ("referent", "tuteur"):
            login = f"bench.{role}.{first_number + n}"
            people.append({"login": login, "isidoor_id": f"{login}@isidoor.example.org", "first_name": "Camille",
                           "last_name": f"Mesure {first_number + n}", "email": f"{login}@example.org",
                           "phone": "+33612345678", "password_hash": password, "active": True,
                           "first_login_at": now - timedelta(days=1)})
    session.execute(insert(Person), people)
    person_ids = dict(session.execute(select(Person.login, Person.id)
                                      .where(Person.login.in_([p["login"] for p in people]))).all())
    schools, roles = [], []
    for n, row in enumerate(rows):
        establishment_id = ids[row["uai"]]
        referent = person_ids[f"bench.referent.{first_number + n}"]
        tuteur = person_ids[f"bench.tuteur.{first_number + n}"]
        roles += [{"person_id": referent, "role": "referent", "establishment_id": establishment_id,
                   "head_of_school": True, "source": "isidoor", "synced_at": now},
                  {"person_id": tuteur, "role": "tuteur", "establishment_id": establishment_id,
                   "head_of_school": False, "source": "isidoor", "synced_at": now}]
        schools.append(School(establishment_id, referent, tuteur))
    session.execute(insert(RoleAssignment), roles)
    session.commit()
    return schools


def reviewer_id(session: Session) -> int:
    """The gestionnaire of the Udogec reviewing the benchmark's schools."""
    return session.scalar(select(Person.id).where(Person.login == REVIEWER))


def structure_id(session: Session, code: str) -> int:
    """Database id of a structure by its code."""
    return session.scalar(select(Structure.id).where(Structure.code == code))


def campaign_samples(campaign: Campaign, number: int) -> dict[str, dict]:
    """Valid data for each campaign task, dated within the campaign, for the `number`-th volunteer."""
    start = campaign.earliest_start
    end = _add_months(start, 8) - timedelta(days=1)
    data = copy.deepcopy(SAMPLES)
    data["design_project"]["desired_start_date"] = start.isoformat()
    # Dates recording a fact cannot be after the platform's today, whatever the campaign's year.
    data["publish_offer"]["published_on"] = _not_after_today(campaign.submission_deadline - timedelta(days=10))
    data["select_volunteer"]["interview_date"] = _not_after_today(start - timedelta(days=60))
    volunteer = data["volunteer_file"]
    volunteer["last_name"] = f"Martin {number}"
    volunteer["birth_date"] = date(start.year - 21, 3, 12).isoformat()
    volunteer["start_date"], volunteer["end_date"] = start.isoformat(), end.isoformat()
    if "tutor" in volunteer:
        # The tuteur is chosen among the school's own: each benchmark school has one, and no cotuteur.
        volunteer["tutor"] = f"bench.tuteur.{number}"
        volunteer.pop("cotutor", None)
    data["draw_up_contract"]["contract_start_date"] = start.isoformat()
    data["draw_up_contract"]["contract_end_date"] = end.isoformat()
    data["record_follow_up"]["meeting_date"] = _not_after_today(start + timedelta(days=30))
    data["end_of_mission_report"]["actual_end_date"] = end.isoformat()
    return data


def _not_after_today(day: date) -> str:
    return min(day, date.today()).isoformat()


def step_data(samples: dict[str, dict], spec_id: str, follow_ups_done: int = 0) -> dict:
    """The data submitted for a user task (empty for a task without sample); the last meeting ends the mission."""
    data = copy.deepcopy(samples.get(spec_id, {}))
    if spec_id == "record_follow_up":
        data["mission_over"] = follow_ups_done + 1 >= FOLLOW_UPS
    return data


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1) if day.day == 1 else \
        date(day.year + month // 12, month % 12 + 1, min(day.day, 28))
