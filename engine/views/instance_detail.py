"""An instance as its page shows it to those who steer it: who is involved, who has each task, what was produced."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent, Document, Person, ProcessInstance, RoleAssignment, TaskRow
from engine.models.directory import ROLE_LABELS
from engine.ops.operations import Candidate, eligible_people


@dataclass
class CurrentTask:
    """A ready task with the one person it was given to, or everyone who may do it."""

    row: TaskRow
    assignee: Person | None
    candidates: list[Candidate] = field(default_factory=list)


@dataclass
class Involved:
    """Someone who took part in an instance, and how."""

    person: Person
    roles: list[str] = field(default_factory=list)


def current_tasks(session: Session, ready_rows: list[TaskRow]) -> list[CurrentTask]:
    """An instance's ready tasks, oldest first, each with its assignee and the people eligible for it.

    Tasks of the same role and scope (one per volunteer place) share one look-up of eligible people.
    """
    rows = sorted(ready_rows, key=lambda row: (row.created_at, row.place or 0))
    assignee_ids = {row.assignee_id for row in rows if row.assignee_id}
    assignees: dict[int | None, Person] = (
        {person.id: person for person in session.scalars(select(Person).where(Person.id.in_(assignee_ids)))}
        if assignee_ids else {})
    eligible: dict[tuple, list[Candidate]] = {}
    found = []
    for row in rows:
        key = (row.lane, row.establishment_id, row.department, row.structure_code)
        if key not in eligible:
            eligible[key] = eligible_people(session, row)
        found.append(CurrentTask(row, assignees.get(row.assignee_id), eligible[key]))
    return found


def school_doers(session: Session, ready_rows: list[TaskRow]) -> dict[str, list[str]]:
    """For each ready task of a school's lane, the names of the people of the school who may do it, by task id.

    A gestionnaire's task is left out: school staff know it by its structure, not by the names of everyone who
    covers their department."""
    rows = [row for row in ready_rows if row.lane != "gestionnaire"]
    return {item.row.id: [candidate.person.full_name for candidate in item.candidates]
            for item in current_tasks(session, rows)}


def people_involved(session: Session, instance: ProcessInstance, ready_rows: list[TaskRow]) -> list[Involved]:
    """Who started the instance, who acted on it (with how many actions), the staff of its establishment and
    the people its ready tasks (`ready_rows`) are given to."""
    found: dict[int, Involved] = {}

    def note(person: Person | None, role: str) -> None:
        if person is not None:
            found.setdefault(person.id, Involved(person)).roles.append(role)

    if instance.started_by_id:
        note(session.get(Person, instance.started_by_id), "a démarré le dossier")
    actions = session.execute(
        select(Person, func.count()).join(AuditEvent, AuditEvent.actor_id == Person.id)
        .where(AuditEvent.instance_id == instance.id).group_by(Person.id).order_by(Person.last_name))
    for person, count in actions:
        note(person, f"{count} action{'s' if count > 1 else ''} dans l'historique")
    if instance.establishment_id is not None:
        staff = session.execute(
            select(Person, RoleAssignment.role).join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .where(RoleAssignment.establishment_id == instance.establishment_id)
            .order_by(RoleAssignment.role, Person.last_name))
        for person, role in staff:
            note(person, f"{ROLE_LABELS.get(role, role).lower()} de l'établissement")
    for person_id in sorted({row.assignee_id for row in ready_rows if row.assignee_id}):
        note(session.get(Person, person_id), "tâche confiée")
    return sorted(found.values(), key=lambda item: (item.person.last_name, item.person.first_name))


def documents_by_task(documents: list[Document]) -> dict[str | None, list[Document]]:
    """An instance's documents, oldest first, grouped by the task whose completion produced them (None:
    produced otherwise)."""
    grouped: dict[str | None, list[Document]] = {}
    for document in sorted(documents, key=lambda document: (document.created_at, document.id)):
        grouped.setdefault(document.task_id, []).append(document)
    return grouped
