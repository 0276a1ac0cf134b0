"""What an instance's page adds for those who follow and steer it: diagram, people, assignees, what it waits for,
operations."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Principal, can_operate
from engine.models import Deployment, Document, TaskRow
from engine.ops.consistency import waiting_for_nothing
from engine.ops.version_migration import refusal_reasons
from engine.runtime.deployment import bundle_for
from engine.views.diagrams import TaskDates, instance_views
from engine.views.history import open_tasks
from engine.views.instance_detail import current_tasks, documents_by_task, people_involved
from engine.views.waiting import waiting_events
from webapp.operations import operations_runtime
from webapp.vendor import viewer_available

log = logging.getLogger(__name__)
OPERATIONS = ("suspend", "resume", "terminate", "reassign", "timer", "retry", "migrate")


def _task_dates(session: Session, instance_id: int) -> TaskDates:
    table = TaskDates()
    rows = session.execute(select(TaskRow.id, TaskRow.process_id, TaskRow.spec_id, TaskRow.place, TaskRow.state,
                                  TaskRow.created_at, TaskRow.completed_at)
                           .where(TaskRow.instance_id == instance_id))
    for task_id, process_id, spec_id, place, state, created_at, completed_at in rows:
        if state == "completed":
            table.dates[task_id] = completed_at
            table.done.append((task_id, process_id, spec_id, place, completed_at))
        elif state == "ready":
            table.dates[task_id] = created_at
    return table


def steering_context(session: Session, principal: Principal, instance, ready_rows: list[TaskRow] | None = None,
                     documents: list[Document] | None = None) -> dict:
    """Template values of the instance page: diagrams, people involved, current tasks, timers waited on, allowed
    operations, ended paths it waits on for nothing.

    `ready_rows` and `documents` are the instance's ready task rows and documents when the page has them.
    """
    allowed = {operation: can_operate(principal, instance, operation) for operation in OPERATIONS}
    bundle = bundle_for(instance.deployment)
    views, diagram_error, workflow = [], None, None
    try:
        workflow = operations_runtime().load(instance, for_change=False).workflow
        views = instance_views(workflow, bundle.files, {p: bundle.process_name(p) for p in bundle.specs},
                               _task_dates(session, instance.id), instance.incident_node, instance.updated_at)
    except Exception:  # a state that cannot be read must not hide the rest of the page
        log.exception("Diagramme du dossier %s impossible à calculer", instance.id)
        diagram_error = "L'état de ce dossier n'a pas pu être lu : le diagramme n'est pas affiché."
    targets = []
    if allowed["migrate"] and workflow is not None:
        for deployment in session.scalars(select(Deployment).where(Deployment.id > instance.deployment_id)
                                          .order_by(Deployment.id.desc())):
            reasons = refusal_reasons(instance, workflow, deployment, bundle_for(deployment))
            targets.append((deployment, reasons))
    if ready_rows is None:
        ready_rows = open_tasks(session, instance.id)
    if documents is None:
        documents = list(session.scalars(select(Document).where(Document.instance_id == instance.id)))
    return {"diagram_views": views, "diagram_error": diagram_error, "viewer": viewer_available(),
            "people": people_involved(session, instance, ready_rows),
            "current": current_tasks(session, ready_rows),
            "documents_by_task": documents_by_task(documents), "allowed": allowed,
            "migration_targets": targets, "now_moment": datetime.now(), "waiting": waiting_events(session, instance),
            "waiting_for_nothing": waiting_for_nothing(workflow) if workflow is not None else []}
