"""Keeping the task table in step with the engine, and reading a task's form and status."""
from __future__ import annotations

from collections.abc import Set
from datetime import datetime

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.forms import Form
from engine.models import ProcessInstance, TaskRow
from engine.runtime.deployment import ProcessBundle
from engine.runtime.drafts import discard_drafts
from engine.runtime.due_dates import due_date

EMPTY_FORM = {"type": "object", "properties": {}, "additionalProperties": False}


def has_form(task_spec) -> bool:
    """Whether a ready task is done by filling a form (a user task), not only marked done (a manual task).

    A `bpmn:manualTask` or an untyped `bpmn:task` is something done outside the platform: its person says
    « C'est fait », and nothing enters the dossier's data.
    """
    return isinstance(task_spec, UserTaskMixin)


def spiff_form(bundle: ProcessBundle, task_spec) -> Form:
    """The form of a user task, from the files of its deployment; an empty one for a manual task."""
    if not has_form(task_spec):
        return Form(schema=dict(EMPTY_FORM), ui={})
    properties = task_spec.extensions.get("properties", {})
    schema_name = properties.get("formJsonSchemaFilename") or f"{task_spec.bpmn_id}.schema.json"
    ui_name = properties.get("formUiSchemaFilename") or f"{task_spec.bpmn_id}.uischema.json"
    schema = bundle.form(schema_name)
    return Form(schema=schema if schema is not None else dict(EMPTY_FORM), ui=bundle.form(ui_name) or {})


def task_lane(bundle: ProcessBundle, task) -> str | None:
    """Role lane of an engine task, by the lane's id in its process."""
    spec = task.task_spec
    return bundle.lane_of(task.workflow.spec.name, spec.bpmn_id)


def task_structure(task) -> str | None:
    """Structure a gestionnaire task is routed to: the reviewer, or the training's organiser."""
    return task.data.get("review_structure") or task.data.get("structure_code")


def sync_task_rows(session: Session, workflow: BpmnWorkflow, instance: ProcessInstance, now: datetime,
                   completed: Set[str], actor_id: int | None, ready_rows: list[TaskRow] | None = None) -> list[str]:
    """Make the instance's ready task rows match the engine's ready user tasks; return their titles.

    `ready_rows` are the instance's ready rows when the caller already read them in this transaction.
    """
    from engine.runtime.deployment import bundle_for

    bundle = bundle_for(instance.deployment)
    ready = {str(t.id): t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    if ready_rows is None:
        ready_rows = list(session.scalars(
            select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready")))
    rows = {row.id: row for row in ready_rows}
    left = [row for task_id, row in rows.items() if task_id not in ready]
    for row in left:
        row.state = "completed" if row.id in completed else "cancelled"
        row.completed_at = now
        row.completed_by_id = actor_id if row.id in completed else None
    discard_drafts(session, left)
    titles = []
    for task_id, task in ready.items():
        titles.append(task.task_spec.bpmn_name or task.task_spec.bpmn_id)
        if task_id in rows:
            continue
        place = task.data.get("place")
        session.add(TaskRow(
            id=task_id,
            instance_id=instance.id,
            process_id=task.workflow.spec.name,
            spec_id=task.task_spec.bpmn_id,
            title=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
            lane=task_lane(bundle, task),
            establishment_id=instance.establishment_id,
            department=instance.department,
            structure_code=task_structure(task),
            place=place.get("number") if isinstance(place, dict) else None,
            state="ready",
            created_at=now,
            due_at=due_date(task.task_spec, now, task.data),
        ))
    return titles


def instance_status(workflow: BpmnWorkflow, incident: str | None) -> tuple[str, str | None]:
    """Status and outcome (the end event reached) of an instance.

    An end event whose id ends in `_refused` marks a refusal, one ending in
    `_terminated` an interruption; any other end is a completion. A workflow
    cancelled by a process owner (not successful) is an interruption too.
    """
    if incident:
        return "incident", None
    if not workflow.completed:
        return "running", None
    if not workflow.success:
        return "terminated", None
    ends = [
        t.task_spec.bpmn_id
        for t in workflow.get_tasks(state=TaskState.COMPLETED, skip_subprocesses=True)
        if isinstance(t.task_spec, EndEvent)
    ]
    outcome = ends[-1] if ends else None
    if outcome and outcome.endswith("_refused"):
        return "refused", outcome
    if outcome and outcome.endswith("_terminated"):
        return "terminated", outcome
    return "completed", outcome
