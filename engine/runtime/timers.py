"""BPMN timers: the engine's clock, and the table of waiting timers a worker reads.

SpiffWorkflow reads the time with `datetime.now(timezone.utc)` inside its timer
event definitions. The runtime's clock is injectable (tests drive time forward
without sleeping), so while the runtime runs engine code the timer module reads
the clock of that runtime instead; outside `engine_clock` it reads the real time.

Each waiting timer of an instance is kept as a `timer` row (due time, element
id), written in the same transaction as the instance's state: a worker finds
due timers with one indexed query instead of loading every instance.

A cycle counted in months or years (`R7/2027-11-01T09:00:00/P1M`) stays on the
calendar: SpiffWorkflow turns its period into seconds once, at the first month's
length, so that 1 October + 31 days + 31 days would drift to 2 December. After
each run of the engine, `align_calendar_cycles` puts the next occurrence of such
a cycle back on the start's day, counted from the start (see `due_dates.shifted`).

Analysts may give a timer event the phrase that says what an instance waits
for (`<spiffworkflow:property name="waitingLabel" value="Prochain suivi mensuel"/>`);
without it, the element's name is used (`timer_label`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
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
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from engine.models import ProcessInstance, Timer
from engine.runtime import spiff_internals
from engine.runtime.deployment import ProcessBundle
from engine.runtime.due_dates import parse_duration, shifted

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
    for task in spiff_internals.open_tasks(workflow, TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, TimerEventDefinition):
            continue
        due = _due_at(task)
        if due is not None:
            found[str(task.id)] = (task.task_spec.bpmn_id, due[0], due[1])
    return found


def sync_timers(session: Session, instance: ProcessInstance, before: WaitingTimers, after: WaitingTimers) -> None:
    """Make the instance's timer rows match what its workflow now waits on (`after`, its `waiting_timers`); the
    caller commits.

    `before` is what the workflow waited on when it was loaded, which is what
    its rows hold: an instance whose timers did not change costs no statement.
    """
    if after == before:
        return
    # A timer gone, or a cycle moved to its next occurrence: its row goes (and with it any claim on it).
    stale = [task_id for task_id, timer in before.items() if after.get(task_id) != timer]
    if stale:
        session.execute(delete(Timer).where(Timer.instance_id == instance.id, Timer.task_id.in_(stale))
                        .execution_options(synchronize_session=False))
    changed = {task_id: timer for task_id, timer in after.items() if before.get(task_id) != timer}
    if changed:
        # One statement for all the new rows (no ORM object: nothing reads them back in this transaction).
        session.execute(insert(Timer.__table__), [
            {"instance_id": instance.id, "task_id": task_id, "spec_id": spec_id, "kind": kind, "due_at": due_at}
            for task_id, (spec_id, kind, due_at) in changed.items()])


def boundary_deadline(task, waiting: WaitingTimers) -> datetime | None:
    """When the first timer attached to a task (a reminder, a deadline) fires, or None: the due date its row
    shows in the inbox when the task has no due date of its own."""
    split = task.parent
    if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
        return None
    dues = [waiting[str(sibling.id)][2] for sibling in split.children if str(sibling.id) in waiting]
    return min(dues, default=None)


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


# Where a cycle's armed value keeps its calendar: first occurrence, period, repetitions, and the count of cycles
# left when its next occurrence was last put on the calendar. None: the cycle is not counted in months.
CALENDAR = "calendar"
LABEL_PROPERTY = "waitingLabel"


def _calendar_of(task, definition: CycleTimerEventDefinition) -> dict | None:
    """The calendar of a cycle whose period has months or years, from its expression; None for other cycles."""
    try:
        expression = task.workflow.script_engine.evaluate(task, definition.expression)
        repeat, start, period = str(expression).upper().replace("--", "/").split("/")
        parsed = parse_duration(period)
        first = datetime.fromisoformat(start)
        repetitions = int(repeat.removeprefix("R") or -1)
    except Exception:  # an expression SpiffWorkflow reads its own way (no start, a week date) keeps its seconds
        return None
    if parsed is None or not (parsed.get("months") or parsed.get("years")):
        return None
    return {"start": first.isoformat(), "period": period, "repeat": repetitions}


def align_calendar_cycles(workflow: BpmnWorkflow) -> None:
    """Put the next occurrence of every cycle counted in months back on the calendar after it fired.

    Only a cycle that fired since it was last aligned moves: an occurrence an operator rescheduled keeps its
    new time until it fires, and the one after it falls on the calendar again.
    """
    for task in spiff_internals.open_tasks(workflow, TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if not isinstance(definition, CycleTimerEventDefinition):
            continue
        value = spiff_internals.armed_timer_value(task)
        if not isinstance(value, dict) or value.get("cycles") == 0:
            continue
        if CALENDAR in value:
            calendar = value[CALENDAR]
            if calendar is None or calendar["cycles"] == value["cycles"]:
                continue
        else:
            calendar = _calendar_of(task, definition)
            if calendar is None:
                spiff_internals.set_armed_timer_value(task, {**value, CALENDAR: None})
                continue
        # SpiffWorkflow counts cycles down from the repetitions (below -1 for an unbounded cycle): the
        # difference is how many occurrences have fired.
        fired = calendar["repeat"] - value["cycles"]
        moment = shifted(datetime.fromisoformat(calendar["start"]), parse_duration(calendar["period"]) or {}, fired)
        # A start without offset is local time on each occurrence's own day: 9:00 stays 9:00 across a change of
        # summer time (SpiffWorkflow would keep the offset of the day it started).
        aware = moment if moment.tzinfo is not None else moment.astimezone()
        spiff_internals.set_armed_timer_value(task, {
            **value, "next": aware.astimezone(UTC).isoformat(), CALENDAR: {**calendar, "cycles": value["cycles"]}})


def timer_label(task_spec) -> str:
    """What an instance waiting on a timer event waits for: the analyst's `waitingLabel`, else its name."""
    properties = (getattr(task_spec, "extensions", None) or {}).get("properties") or {}
    label = properties.get(LABEL_PROPERTY)
    if isinstance(label, str) and label.strip():
        return label.strip()
    return task_spec.bpmn_name or task_spec.bpmn_id


def label_of_element(bundle: ProcessBundle, process_id: str, element_id: str) -> str:
    """What an instance of a process waits for at a timer element of its deployment (the element id if gone)."""
    for spec in (bundle.specs.get(process_id), *bundle.subprocess_specs.get(process_id, {}).values()):
        task_spec = spec.task_specs.get(element_id) if spec is not None else None
        if task_spec is not None:
            return timer_label(task_spec)
    return element_id
