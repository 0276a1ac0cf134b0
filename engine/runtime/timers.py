"""BPMN timers: the engine's clock, and the table of waiting timers a worker reads.

SpiffWorkflow reads the time with `datetime.now(timezone.utc)` inside its timer
event definitions. The runtime's clock is injectable (tests drive time forward
without sleeping), so while the runtime runs engine code the timer module reads
the clock of that runtime instead; outside `engine_clock` it reads the real time.

Each waiting timer of an instance is kept as a `timer` row (due time, element
id), written in the same transaction as the instance's state: a worker finds
due timers with one indexed query instead of loading every instance.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from uuid import UUID

import SpiffWorkflow.bpmn.specs.event_definitions.timer as spiff_timer
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete
from sqlalchemy.orm import Session

from engine.models import ProcessInstance, TaskRow, Timer
from engine.runtime import spiff_internals

Clock = Callable[[], datetime]
_CLOCK: ContextVar[Clock | None] = ContextVar("engine_clock", default=None)


class _ClockedDatetime(datetime):
    """`datetime` whose `now` follows the clock of the runtime running engine code."""

    @classmethod
    def now(cls, tz=None):
        """The runtime's time when one is running, else the real time."""
        clock = _CLOCK.get()
        if clock is None:
            return datetime.now(tz)
        # The platform's clocks give naive local times; SpiffWorkflow asks for aware UTC ones.
        value = clock()
        return value.astimezone(tz) if tz is not None else value


spiff_timer.datetime = _ClockedDatetime


@contextmanager
def engine_clock(clock: Clock) -> Iterator[None]:
    """Let SpiffWorkflow's timers read `clock` for the duration of the block."""
    token = _CLOCK.set(clock)
    try:
        yield
    finally:
        _CLOCK.reset(token)


def _local(value: datetime) -> datetime:
    """A SpiffWorkflow time (aware, or naive local) as the naive local time the database keeps."""
    return value.astimezone().replace(tzinfo=None) if value.tzinfo is not None else value


def _due_at(task) -> tuple[str, datetime] | None:
    """Kind and due time of a waiting timer task, or None when it is not a timer or not armed yet."""
    definition = task.task_spec.event_definition
    value = spiff_internals.armed_timer_value(task)
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        # A cycle is armed with its count and next deadline; the other timers with an ISO date.
        if not isinstance(value, dict) or value.get("cycles") == 0:
            return None
        return "cycle", _local(datetime.fromisoformat(value["next"]))
    kind = "duration" if isinstance(definition, DurationTimerEventDefinition) else "date"
    return kind, _local(TimerEventDefinition.get_datetime(value))


WaitingTimers = dict[str, tuple[str, str, datetime]]


def waiting_timers(workflow: BpmnWorkflow) -> WaitingTimers:
    """Timers an instance waits on: engine task id → (element id, kind, due time)."""
    found: WaitingTimers = {}
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            continue
        due = _due_at(task)
        if due is not None:
            found[str(task.id)] = (task.task_spec.bpmn_id, due[0], due[1])
    return found


def sync_timers(session: Session, instance: ProcessInstance, before: WaitingTimers, workflow: BpmnWorkflow) -> None:
    """Make the instance's timer rows match what its workflow now waits on; the caller commits.

    `before` is what the workflow waited on when it was loaded, which is what
    its rows hold: an instance whose timers did not change costs no statement.
    """
    after = waiting_timers(workflow)
    if after == before:
        return
    # A timer gone, or a cycle moved to its next occurrence: its row goes (and with it any claim on it).
    stale = [task_id for task_id, timer in before.items() if after.get(task_id) != timer]
    if stale:
        session.execute(delete(Timer).where(Timer.instance_id == instance.id, Timer.task_id.in_(stale))
                        .execution_options(synchronize_session=False))
    changed = {task_id: timer for task_id, timer in after.items() if before.get(task_id) != timer}
    for task_id, (spec_id, kind, due_at) in changed.items():
        session.add(Timer(instance_id=instance.id, task_id=task_id, spec_id=spec_id, kind=kind, due_at=due_at))
    _set_due_dates(session, instance, workflow, changed)


def forget_timer(session: Session, instance_id: int, task_id: str) -> None:
    """Remove the row of a timer the instance no longer waits on; the caller commits."""
    session.execute(delete(Timer).where(Timer.instance_id == instance_id, Timer.task_id == task_id)
                    .execution_options(synchronize_session=False))


def find_task(workflow: BpmnWorkflow, task_id: str):
    """The engine task of an id (in the workflow or any of its subprocesses), or None."""
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except TaskNotFoundException:
        return None


def _set_due_dates(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow,
                   changed: WaitingTimers) -> None:
    """Give a new task row the due time of a timer attached to its task (a reminder), for the inbox."""
    new_rows = {row.id: row for row in session.new if isinstance(row, TaskRow) and row.instance_id == instance.id}
    if not new_rows:
        return
    for task_id, (_spec_id, _kind, due_at) in changed.items():
        timer_task = find_task(workflow, task_id)
        split = timer_task.parent if timer_task is not None else None
        if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
            continue
        for sibling in split.children:
            row = new_rows.get(str(sibling.id))
            if row is not None and row.due_at is None:
                row.due_at = due_at
