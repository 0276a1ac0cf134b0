"""Bulk data for figure 4: a national directory, five campaigns of instances, their tasks and history.

Rows go in with SQLAlchemy core inserts in batches, not through the engine:
the point is the size of the tables the inbox and monitoring queries read.
Running instances of the current campaign each have one ready task; every
instance has completed tasks and their audit events. The engine state stored
in each row is a real one of a hosting project in mid-campaign, so rows have
their real width.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from bench.workload import siret, uai
from engine.models import (
    AuditEvent,
    Deployment,
    Establishment,
    InstanceState,
    Ogec,
    Person,
    ProcessInstance,
    RoleAssignment,
    Structure,
    TaskRow,
)

DEPARTMENTS = [f"{n:02d}" for n in range(1, 96) if n != 20]
BIG_REGION = [f"{n:02d}" for n in (1, 3, 7, 15, 26, 38, 42, 43, 63, 69, 73, 74)]
CAMPAIGNS = ["2023-2024", "2024-2025", "2025-2026", "2026-2027", "2027-2028"]
CURRENT = CAMPAIGNS[-1]
# Ready tasks of running instances, with their lane; gestionnaire tasks go to the reviewing structure.
READY_SPECS = [("design_project", "referent"), ("review_project", "gestionnaire"), ("publish_offer", "referent"),
               ("select_volunteer", "referent"), ("confirm_selection", "tuteur"), ("volunteer_file", "referent"),
               ("draw_up_contract", "gestionnaire"), ("record_follow_up", "tuteur")]
DONE_SPECS = ["design_project", "review_project", "publish_offer", "select_volunteer", "confirm_selection",
              "volunteer_file", "draw_up_contract", "record_follow_up", "record_follow_up", "record_follow_up",
              "record_follow_up", "end_of_mission_report"]
BATCH = 5000
# The seeded OGECs' SIRET numbers start here: the schools the benchmark runs through the engine first
# (`bench.workload.add_schools`, numbered from 1000) keep the numbers below.
SEEDED_SIRETS = 100_000


@dataclass
class Seeded:
    """What the measurements need from the seeded data."""

    instances: int
    completed_tasks: int
    ready_tasks: int
    big_structure: str
    big_gestionnaire_id: int
    national_gestionnaire_id: int
    sample_instance_ids: list[int]


def seed(session: Session, instances: int, completed_tasks: int, state: str, seed_value: int = 10) -> Seeded:
    """Insert structures, schools, gestionnaires, `instances` instances and `completed_tasks` task rows."""
    rng = random.Random(seed_value)
    codes = _structures(session)
    schools = _schools(session, max(50, min(7500, instances // 6)))
    deployment_id = session.scalar(select(Deployment.id).order_by(Deployment.id.desc()).limit(1))
    per_instance = completed_tasks / instances
    now = datetime(2027, 3, 15, 10, 0)
    current_share = 0.2
    done = ready = 0
    instance_rows, owners = [], []
    for number in range(instances):
        establishment_id, department = schools[number % len(schools)]
        current = number >= instances * (1 - current_share)
        campaign = CURRENT if current else CAMPAIGNS[int(number / (instances * (1 - current_share)) * 4)]
        status = "running" if current else rng.choice(["completed"] * 17 + ["refused"] * 2 + ["terminated"])
        created = now - timedelta(days=(0 if current else 365 * (4 - CAMPAIGNS.index(campaign))) + rng.randint(1, 200))
        instance_rows.append({
            "deployment_id": deployment_id, "process_id": "hosting_project",
            "title": f"Projet d'accueil — établissement {establishment_id}", "establishment_id": establishment_id,
            "department": department, "campaign": campaign, "status": status,
            "outcome": None if current else {"completed": "campaign_closed", "refused": "project_refused",
                                             "terminated": "mission_terminated"}[status],
            "current_step": None, "created_at": created, "updated_at": created + timedelta(days=30),
            "version": 1,
        })
        owners.append((establishment_id, department, current, created))
    ids = _insert_returning_ids(session, ProcessInstance, instance_rows)
    for start in range(0, len(ids), 5000):
        session.execute(insert(InstanceState), [{"instance_id": instance_id, "state": state}
                                                for instance_id in ids[start:start + 5000]])
    # As for any bulk load, the secondary indexes of the two big tables are built once, after it.
    indexes = [index for model in (TaskRow, AuditEvent) for index in model.__table__.indexes]
    connection = session.connection()
    for index in indexes:
        index.drop(connection)
    task_rows, events = [], []
    for instance_id, (establishment_id, department, current, created) in zip(ids, owners, strict=False):
        count = int(per_instance) + (1 if rng.random() < per_instance - int(per_instance) else 0)
        for step in range(count):
            spec = DONE_SPECS[min(step, len(DONE_SPECS) - 1)]
            at = created + timedelta(days=step * 7, minutes=step)
            task_id = str(uuid.UUID(int=rng.getrandbits(128)))
            task_rows.append(_task(task_id, instance_id, spec, "gestionnaire" if spec in ("review_project",
                                   "draw_up_contract") else "referent", establishment_id, department,
                                   codes[department], "completed", at))
            events.append({"instance_id": instance_id, "task_id": task_id, "spec_id": spec, "kind": "completed",
                           "summary": spec.replace("_", " "), "actor_id": None, "at": at,
                           "data": {"comment": "Saisie du banc d'essai.", "step": step}})
            done += 1
        if current:
            spec, lane = READY_SPECS[rng.randrange(len(READY_SPECS))]
            task_rows.append(_task(str(uuid.UUID(int=rng.getrandbits(128))), instance_id, spec, lane,
                                   establishment_id, department, codes[department], "ready", created))
            ready += 1
        if len(task_rows) >= BATCH:
            _flush(session, task_rows, events)
    _flush(session, task_rows, events)
    for index in indexes:
        index.create(connection)
    big, national = _gestionnaires(session, codes)
    session.commit()
    # As after any bulk load (and as PostgreSQL's autovacuum does on its own in production), the planners get
    # statistics of what was loaded.
    session.execute(text("ANALYZE"))
    session.commit()
    return Seeded(instances=instances, completed_tasks=done, ready_tasks=ready, big_structure="UROGEC-GRAND",
                  big_gestionnaire_id=big, national_gestionnaire_id=national,
                  sample_instance_ids=[i for i, owner in zip(ids, owners, strict=False) if owner[1] in BIG_REGION][:3])


def _task(task_id: str, instance_id: int, spec: str, lane: str, establishment_id: int, department: str,
          structure: str, state: str, at: datetime) -> dict:
    return {"id": task_id, "instance_id": instance_id, "process_id": "hosting_project", "spec_id": spec,
            "title": spec.replace("_", " ").capitalize(), "lane": lane, "establishment_id": establishment_id,
            "department": department, "structure_code": structure if lane == "gestionnaire" else None,
            "place": None, "state": state, "created_at": at, "due_at": None,
            "completed_at": at if state == "completed" else None, "completed_by_id": None}


def _flush(session: Session, task_rows: list[dict], events: list[dict]) -> None:
    # Core executemany on the connection: the ORM's bulk path would look at every row.
    for model, rows in ((TaskRow, task_rows), (AuditEvent, events)):
        if rows:
            session.connection().execute(model.__table__.insert(), rows)
    task_rows.clear()
    events.clear()


def _insert_returning_ids(session: Session, model, rows: list[dict]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        ids += list(session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), chunk))
    return ids


def _structures(session: Session) -> dict[str, str]:
    """Reviewing structure of each department: an Udogec for one in three, else the big Urogec or Fnogec."""
    rows, codes = [], {}
    rows.append({"code": "UROGEC-GRAND", "kind": "urogec", "name": "Urogec du grand territoire",
                 "departments": BIG_REGION, "email": "sc@urogec-grand.example.org", "phone": "+33400000000",
                 "handles_service_civique": True})
    for index, department in enumerate(DEPARTMENTS):
        if index % 3 == 0 and department not in BIG_REGION:
            rows.append({"code": f"UDOGEC-B{department}", "kind": "udogec", "name": f"Udogec {department}",
                         "departments": [department], "email": f"sc@udogec{department}.example.org",
                         "phone": "+33400000001", "handles_service_civique": True})
            codes[department] = f"UDOGEC-B{department}"
        else:
            codes[department] = "UROGEC-GRAND" if department in BIG_REGION else "FNOGEC"
    session.execute(insert(Structure), rows)
    return codes


def _schools(session: Session, count: int) -> list[tuple[int, str]]:
    """`count` schools spread over the departments; return (id, department) of each."""
    rows = []
    for number in range(count):
        department = DEPARTMENTS[number % len(DEPARTMENTS)]
        rows.append({"uai": uai(department, 2000 + number // len(DEPARTMENTS)),
                     "name": f"École Sainte-Mesure n° {number}", "postal_code": f"{department}000",
                     "city": f"Commune {number}", "department": department, "network": "SGEC",
                     "pupil_count": 100 + number % 700, "pupil_count_year": CURRENT})
    ogec_ids = _insert_returning_ids(session, Ogec, [
        {"name": f"OGEC Sainte-Mesure {number}", "address": "1 rue du Banc", "postal_code": row["postal_code"],
         "city": row["city"], "siret": siret(SEEDED_SIRETS + number), "phone": "+33100000000"}
        for number, row in enumerate(rows)])
    for row, ogec_id in zip(rows, ogec_ids, strict=True):
        row["ogec_id"] = ogec_id
    ids = _insert_returning_ids(session, Establishment, rows)
    return [(establishment_id, row["department"]) for establishment_id, row in zip(ids, rows, strict=False)]


def _gestionnaires(session: Session, codes: dict[str, str]) -> tuple[int, int]:
    """A gestionnaire of the big Urogec and one of Fnogec; return their person ids."""
    found = []
    for login, code in (("bench.gestionnaire.grand", "UROGEC-GRAND"), ("bench.gestionnaire.national", "FNOGEC")):
        person_id = session.scalar(insert(Person).values(
            login=login, isidoor_id=f"{login}@isidoor.example.org", first_name="Dominique", last_name="Mesure",
            email=f"{login}@example.org", phone="+33600000000", active=True, first_login_at=datetime(2027, 1, 1),
        ).returning(Person.id))
        structure_id = session.scalar(select(Structure.id).where(Structure.code == code))
        session.execute(insert(RoleAssignment), [{"person_id": person_id, "role": "gestionnaire",
                                                  "structure_id": structure_id, "head_of_school": False,
                                                  "source": "isidoor", "synced_at": datetime(2027, 1, 1)}])
        found.append(person_id)
    return found[0], found[1]
