"""Telling people a task now waits for them: one message per new task to each person who may do it.

A completion only writes the new task row; a worker announces it afterwards,
so the completion stays fast and a message goes out only for a committed task.
Each task is announced once: a conditional UPDATE of its `notified_at` picks
it, in the same transaction as the messages it queues.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.access import LANE_ROLES
from engine.db import rows_matched
from engine.mail import Mailer, task_link
from engine.models import Person, ProcessInstance, RoleAssignment, Structure, TaskRow
from handlers.formats import date_fr

SIGNATURE = "L'équipe Service Civique"


def people_for_task(session: Session, task: TaskRow) -> list[Person]:
    """Active people who may do a task: by its lane, in its establishment or its structure."""
    query = select(Person).join(RoleAssignment, RoleAssignment.person_id == Person.id).where(Person.active.is_(True))
    if task.lane == "gestionnaire":
        if not task.structure_code:
            return []
        query = query.join(Structure, Structure.id == RoleAssignment.structure_id).where(
            RoleAssignment.role == "gestionnaire", Structure.code == task.structure_code)
    elif task.establishment_id is not None and task.lane in LANE_ROLES:
        query = query.where(RoleAssignment.role.in_(LANE_ROLES[task.lane]),
                            RoleAssignment.establishment_id == task.establishment_id)
    else:
        return []
    return list(session.scalars(query.distinct().order_by(Person.id)))


def task_message(person: Person, task: TaskRow, instance: ProcessInstance) -> tuple[str, str]:
    """Subject and body, in French, of the message announcing a task to a person."""
    place = f" (place n° {task.place})" if task.place else ""
    due = f"\nÀ traiter avant le {date_fr(task.due_at)}." if task.due_at else ""
    body = (
        f"Bonjour {person.first_name},\n\n"
        f"Une nouvelle tâche vous attend sur la plateforme Service Civique :\n"
        f"« {task.title} » — {instance.title}{place}.{due}\n\n"
        f"{SIGNATURE}"
    )
    return f"Nouvelle tâche : {task.title}", body


def announce_new_tasks(session: Session, now: datetime, limit: int = 100) -> int:
    """Queue a message for each ready task not announced yet (at most `limit`); return how many tasks."""
    waiting = list(session.scalars(select(TaskRow.id).where(TaskRow.state == "ready", TaskRow.notified_at.is_(None))
                                   .order_by(TaskRow.created_at).limit(limit)))
    # The read ends here: on SQLite a write must not start from a snapshot another writer made stale.
    session.rollback()
    announced = 0
    for task_id in waiting:
        picked = session.execute(update(TaskRow).where(TaskRow.id == task_id, TaskRow.notified_at.is_(None))
                                 .values(notified_at=now).execution_options(synchronize_session=False))
        if rows_matched(picked) != 1:
            session.rollback()
            continue
        task = session.get_one(TaskRow, task_id)
        mailer = Mailer(session, task.instance_id, clock=lambda: now)
        for person in people_for_task(session, task):
            if person.email:
                subject, body = task_message(person, task, task.instance)
                mailer.send(person.email, subject, body, link=task_link(task.id))
        session.commit()
        announced += 1
    return announced
