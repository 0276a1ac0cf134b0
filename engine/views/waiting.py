"""What an instance waits for when no person has the hand: its BPMN timers, in plain French, with their date.

Read from the timer rows the runtime keeps beside each instance's state (element id, kind, due time) and
labelled from the parsed definitions of the instance's version (`engine.runtime.timers.label_of_element`): no
workflow is deserialised. A suspended instance has no timer rows: its timers wait for it to resume.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Establishment, ProcessInstance, Timer
from engine.runtime.deployment import bundle_for
from engine.runtime.timers import WaitingTimers, label_of_element
from handlers.formats import date_fr


@dataclass(frozen=True)
class WaitingEvent:
    """A timer an instance waits on: its id (the engine task waiting), kind, element of the diagram, label, due time."""

    id: str
    instance_id: int
    kind: str
    element: str
    label: str
    due_at: datetime

    @property
    def text(self) -> str:
        """The event in a sentence: « Prochain suivi mensuel : le 1er novembre 2027 »."""
        return f"{self.label} : le {date_fr(self.due_at)}"


# Timer rows are read as plain values: firing or moving a timer replaces its row, and a row kept in the
# session would stand in the way of a new one given the same primary key.
COLUMNS = (Timer.task_id, Timer.instance_id, Timer.kind, Timer.spec_id, Timer.due_at)


def _event(instance: ProcessInstance, timer_id: str, kind: str, element: str, due_at: datetime) -> WaitingEvent:
    label = label_of_element(bundle_for(instance.deployment), instance.process_id, element)
    return WaitingEvent(timer_id, instance.id, kind, element, label, due_at)


def waiting_events(session: Session, instance: ProcessInstance) -> list[WaitingEvent]:
    """The timers an instance waits on, the nearest first."""
    rows = session.execute(select(*COLUMNS).where(Timer.instance_id == instance.id).order_by(Timer.due_at, Timer.task_id))
    return [_event(instance, timer_id, kind, element, due_at) for timer_id, _instance, kind, element, due_at in rows]


def waiting_events_from(instance: ProcessInstance, timers: WaitingTimers) -> list[WaitingEvent]:
    """The timers an instance waits on as the runtime just saved them (no statement), the nearest first."""
    events = [_event(instance, task_id, kind, element, due_at) for task_id, (element, kind, due_at) in timers.items()]
    return sorted(events, key=lambda event: (event.due_at, event.id))


def waiting_events_of(session: Session, instances: Sequence[ProcessInstance]) -> dict[int, list[WaitingEvent]]:
    """The timers of several instances (a page of a list) in one statement, the nearest first, by instance id."""
    found: dict[int, list[WaitingEvent]] = {instance.id: [] for instance in instances}
    if not instances:
        return found
    by_id = {instance.id: instance for instance in instances}
    rows = session.execute(select(*COLUMNS).where(Timer.instance_id.in_(by_id)).order_by(Timer.due_at, Timer.task_id))
    for timer_id, instance_id, kind, element, due_at in rows:
        found[instance_id].append(_event(by_id[instance_id], timer_id, kind, element, due_at))
    return found


def waiting_event(session: Session, instance: ProcessInstance, timer_id: str) -> WaitingEvent | None:
    """One timer of an instance, by its id, or None when the instance no longer waits on it."""
    return next((event for event in waiting_events(session, instance) if event.id == timer_id), None)


@dataclass(frozen=True)
class UpcomingEvent:
    """A timer of an instance of one of the person's schools, with the instance and its establishment."""

    event: WaitingEvent
    instance: ProcessInstance
    establishment: Establishment | None


def upcoming_in_establishments(session: Session, establishment_ids: Collection[int],
                               limit: int = 20) -> list[UpcomingEvent]:
    """The nearest timers of the running instances of some establishments, the nearest first (at most `limit`)."""
    if not establishment_ids:
        return []
    rows = session.execute(
        select(*COLUMNS, ProcessInstance, Establishment).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .outerjoin(Establishment, Establishment.id == ProcessInstance.establishment_id)
        .where(ProcessInstance.establishment_id.in_(establishment_ids),
               ProcessInstance.status.in_(("running", "incident")))
        .order_by(Timer.due_at, Timer.task_id).limit(limit))
    return [UpcomingEvent(_event(instance, timer_id, kind, element, due_at), instance, establishment)
            for timer_id, _instance_id, kind, element, due_at, instance, establishment in rows]
