"""Keeping the task table in step with the engine, and reading a task's form and status."""
from __future__ import annotations

from collections.abc import Set
from datetime import datetime

from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.db import attach_as_read
from engine.forms import Form
from engine.models import ProcessInstance, TaskRow
from engine.prepared import PreparedWrite
from engine.runtime import spiff_internals
from engine.runtime.deployment import ProcessBundle
from engine.runtime.drafts import discard_drafts
from engine.runtime.due_dates import due_date
from engine.runtime.timers import WaitingTimers, boundary_deadline

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


_TASKS = TaskRow.__table__
# A task leaving the inbox: done by its person, or cancelled by the process; its drafts go with it.
FINISH_TASK = PreparedWrite(update(_TASKS).where(_TASKS.c.id == bindparam("row_id"))
                            .values(state=bindparam("new_state"), completed_at=bindparam("done_at"),
                                    completed_by_id=bindparam("done_by"), draft_saved_at=None))
ADD_TASK = PreparedWrite(insert(_TASKS))


def ready_user_tasks(workflow: BpmnWorkflow) -> dict[str, SpiffTask]:
    """The engine's ready user (and manual) tasks, by task id: the tasks people have to do."""
    return {str(task.id): task for task in spiff_internals.open_tasks(workflow, TaskState.READY, manual=True)}


def task_title(task: SpiffTask) -> str:
    """What a task is called in inboxes and in the dossier's current step."""
    return task.task_spec.bpmn_name or task.task_spec.bpmn_id


def sync_task_rows(session: Session, ready: dict[str, SpiffTask], instance: ProcessInstance, now: datetime,
                   completed: Set[str], actor_id: int | None, waiting: WaitingTimers,
                   ready_rows: list[TaskRow] | None = None) -> list[TaskRow]:
    """Make the instance's ready task rows match the engine's `ready` user tasks; return them, oldest first.

    A new row is due when its task's own due date says (`due_date`), or else when the first timer attached to
    it fires, among the timers the workflow is `waiting` on (a reminder: see `boundary_deadline`).
    `ready_rows` are the instance's ready rows when the caller already read them in this transaction. The rows
    are written with plain statements (one for the rows leaving, one for those added), not through the unit of
    work: the row objects are updated as committed, and the added ones join the session as if read, so that the
    answer to the request shows them without reading them again.
    """
    from engine.runtime.deployment import bundle_for

    if ready_rows is None:
        ready_rows = list(session.scalars(
            select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready")))
    rows = {row.id: row for row in ready_rows}
    left = [row for task_id, row in rows.items() if task_id not in ready]
    if left:
        discard_drafts(session, left)
        finished = [{"row_id": row.id, "new_state": "completed" if row.id in completed else "cancelled",
                     "done_at": now, "done_by": actor_id if row.id in completed else None} for row in left]
        FINISH_TASK.execute(session, finished)
        for row, change in zip(left, finished, strict=True):
            for key, value in (("state", change["new_state"]), ("completed_at", now),
                               ("completed_by_id", change["done_by"]), ("draft_saved_at", None)):
                set_committed_value(row, key, value)
    bundle = bundle_for(instance.deployment)
    added = []
    for task_id, task in ready.items():
        if task_id in rows:
            continue
        place = task.data.get("place")
        added.append({
            "id": task_id, "instance_id": instance.id, "process_id": task.workflow.spec.name,
            "spec_id": task.task_spec.bpmn_id, "title": task_title(task), "lane": task_lane(bundle, task),
            "establishment_id": instance.establishment_id, "department": instance.department,
            "structure_code": task_structure(task), "place": place.get("number") if isinstance(place, dict) else None,
            "state": "ready", "created_at": now,
            "due_at": due_date(task.task_spec, now, task.data) or boundary_deadline(task, waiting),
            "completed_at": None, "completed_by_id": None, "assignee_id": None, "notified_at": None,
            "draft_saved_at": None,
        })
    if added:
        ADD_TASK.execute(session, added)
    kept = [row for row in ready_rows if row.state == "ready"]
    return sorted([*kept, *(attach_as_read(session, TaskRow, values) for values in added)], key=lambda row: row.created_at)


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
