"""The demo story's timeline: events of the past played in time order, timers fired between them as a worker would.

The story (`engine.demo.story`) says what happens when; this module plays it: each event at its moment on the
platform's clock, and before it every timer that fell due, at its due time, through the runtime, so that the
follow-ups, reminders and reports the story shows were opened by the engine itself.
"""
from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import ProcessInstance, Timer
from engine.runtime.notices import announce_new_tasks
from engine.runtime.runtime import ProcessRuntime
from engine.scenarios.runner import Divergence, ScenarioRun, SettableClock
from engine.scenarios.spec import Step

# A worker passes every few seconds: a timer fires just after it falls due.
WORKER_DELAY = timedelta(seconds=10)
# More firings than any story needs: past it, a timer re-arms itself in a loop.
MAX_FIRINGS = 5000


class StoryError(Exception):
    """The story could not be played as written; the message says where, in French.

    Not a `Refusal`: it stops `flask setup`, as a failed scenario stops `make scenarios`.
    """


class DossierRun(ScenarioRun):
    """A dossier of the story: the scenario runner's steps, played one at a time at the story's moments."""

    def do(self, step: Step, at: datetime) -> None:
        """Play a step at a moment and check what it expects; raise `StoryError` if the platform refuses."""
        self.clock.moment = at
        try:
            self._play(step)
            self._check(step.expect, final=False)
        except Divergence as divergence:
            raise StoryError(f"{self.scenario.name}, {step.label} : {divergence}") from divergence


@dataclass(order=True)
class _Event:
    at: datetime
    order: int
    act: Callable[[datetime], None] = field(compare=False)


class Timeline:
    """The events of the story, played in time order up to `now`; `after` runs after each of them."""

    def __init__(self, session: Session, runtime: ProcessRuntime, clock: SettableClock, now: datetime,
                 after: Callable[[datetime], None]):
        self.session = session
        self.runtime = runtime
        self.clock = clock
        self.now = now
        self.after = after
        self._events: list[_Event] = []
        self._order = itertools.count()

    def at(self, moment: datetime, act: Callable[[datetime], None]) -> None:
        if moment <= self.now:
            heapq.heappush(self._events, _Event(moment, next(self._order), act))

    def run(self) -> None:
        """Play the events in time order; the timers due before each fire first, each at its due time."""
        firings = 0
        while True:
            timer = self.session.execute(select(Timer.due_at, Timer.instance_id, Timer.task_id)
                                         .order_by(Timer.due_at, Timer.id).limit(1)).first()
            event_at = self._events[0].at if self._events else None
            if timer is not None and timer.due_at + WORKER_DELAY <= self.now and (
                    event_at is None or timer.due_at + WORKER_DELAY <= event_at):
                firings += 1
                if firings > MAX_FIRINGS:
                    raise StoryError("Trop d'échéances déclenchées : une minuterie tourne en boucle.")
                self.clock.moment = timer.due_at + WORKER_DELAY
                self.runtime.fire_timers(self.session.get_one(ProcessInstance, timer.instance_id), timer.task_id)
                self.after(self.clock.moment)
            elif event_at is not None:
                event = heapq.heappop(self._events)
                event.act(event.at)
                self.after(event.at)
            else:
                break
        announce_new_tasks(self.session, self.now, limit=10_000)
