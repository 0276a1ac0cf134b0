"""Timers in the hands of those who steer instances: fire a waiting timer now, or move its due time.

As an operator's console lets one run a waiting job at once or set its due date: a process owner, or a
gestionnaire within their territory (`engine.access.can_operate`, operation `timer`), fires the monthly
follow-up ahead of its date or moves a mid-mission review, giving a reason. A timer is named by the engine task
waiting on it (the `task_id` of its row): a date or a delay fires once and is then no longer waiting; a cycle
stays the same timer from one occurrence to the next. A page says which occurrence it showed
(`expected_due_at`): one that has fired or moved since is refused, not applied to the next.

Each action runs in one transaction with the instance's optimistic claim, as a completion does, and writes an
audit event with its reason. Firing moves the deadline to the clock's time and lets the engine run the timer as
the worker would (`ProcessRuntime.fire_timers`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Principal, require_operate
from engine.errors import Conflict, rolls_back
from engine.models import ProcessInstance, Timer
from engine.models.runtime import FINISHED_STATUSES
from engine.ops.operations import OperationRefused, checked_reason
from engine.runtime import spiff_internals
from engine.runtime.deployment import bundle_for
from engine.runtime.runtime import ProcessRuntime
from engine.runtime.store import LoadedWorkflow
from engine.runtime.timers import engine_clock, find_task, label_of_element
from handlers.formats import datetime_fr

OPERATION = "timer"
# How far ahead a due time may be moved: beyond it, a typing mistake (2207 for 2027) more likely than a plan.
FURTHEST = timedelta(days=5 * 366)


class TimerGone(Conflict):
    """The timer named is no longer waiting: it fired, moved, or its instance went on meanwhile."""

    default_message = ("Cette échéance n'est plus en attente : elle vient d'être déclenchée ou déplacée, ou le dossier "
                       "a avancé. Rechargez la page.")


@dataclass(frozen=True)
class WaitingTimer:
    """A timer row read as plain values: firing or moving a timer rewrites its row."""

    task_id: str
    element: str
    due_at: datetime


def parse_due_at(value: object) -> datetime:
    """A new due time sent as ISO 8601 text (`2027-11-03T09:00`; server local time unless it has an offset)."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
        if moment is not None:
            return moment.astimezone().replace(tzinfo=None) if moment.tzinfo is not None else moment
    raise OperationRefused("Indiquez la nouvelle échéance : une date et une heure (AAAA-MM-JJ HH:MM).", "due_at")


def _aware(moment: datetime) -> datetime:
    # SpiffWorkflow compares deadlines with an aware UTC clock; the platform's times are naive local ones.
    return moment.astimezone()


class TimerControl(ProcessRuntime):
    """The process runtime with the two timer operations of process owners and gestionnaires."""

    @rolls_back
    def fire_now(self, instance: ProcessInstance, timer_id: str, principal: Principal, reason: str | None,
                 expected_due_at: datetime | None = None) -> ProcessInstance:
        """Fire a waiting timer at once, run the process on, and commit; the reason goes to the history."""
        require_operate(principal, instance, OPERATION)
        reason = checked_reason(reason, "ce déclenchement")
        timer = self._waiting(instance, timer_id, expected_due_at)
        loaded = self.load(instance)
        task = self._engine_task(loaded, instance, timer)
        # Just before the clock: SpiffWorkflow fires a deadline strictly past.
        spiff_internals.move_timer(task, _aware(self.clock() - timedelta(seconds=1)))
        with engine_clock(self.clock):
            loaded.workflow.refresh_timers()
        self._advance(loaded.workflow, instance)
        label = self._label(instance, timer)
        self.instances.record(instance, None, "timer_fired", f"Échéance « {label} » du {datetime_fr(timer.due_at)} "
                              f"déclenchée sans attendre — motif : {reason}", principal,
                              {"element": timer.element, "due_at": timer.due_at.isoformat(), "reason": reason})
        self.instances.save(loaded, instance, principal)
        return instance

    @rolls_back
    def reschedule(self, instance: ProcessInstance, timer_id: str, principal: Principal, due_at: datetime | str | None,
                   reason: str | None, expected_due_at: datetime | None = None) -> ProcessInstance:
        """Move a waiting timer's due time (a cycle: its next occurrence only), and commit.

        `due_at` may be the text a form or a request sent (see `parse_due_at`).
        """
        require_operate(principal, instance, OPERATION)
        reason = checked_reason(reason, "ce déplacement")
        due_at = due_at if isinstance(due_at, datetime) else parse_due_at(due_at)
        now = self.clock()
        if due_at <= now:
            raise OperationRefused("La nouvelle échéance doit être à venir ; pour déclencher l'échéance tout de suite, "
                                   "utilisez « Déclencher maintenant ».", "due_at")
        if due_at > now + FURTHEST:
            raise OperationRefused(f"La nouvelle échéance ne peut pas dépasser le {datetime_fr(now + FURTHEST)}.",
                                   "due_at")
        timer = self._waiting(instance, timer_id, expected_due_at)
        loaded = self.load(instance)
        task = self._engine_task(loaded, instance, timer)
        self.instances.claim(instance)
        spiff_internals.move_timer(task, _aware(due_at))
        label = self._label(instance, timer)
        self.instances.record(instance, None, "timer_moved", f"Échéance « {label} » déplacée du "
                              f"{datetime_fr(timer.due_at)} au {datetime_fr(due_at)} — motif : {reason}", principal,
                              {"element": timer.element, "from": timer.due_at.isoformat(),
                               "to": due_at.isoformat(), "reason": reason})
        self.instances.save(loaded, instance, principal)
        return instance

    def _waiting(self, instance: ProcessInstance, timer_id: str, expected_due_at: datetime | None) -> WaitingTimer:
        if instance.status in FINISHED_STATUSES:
            raise Conflict("Ce dossier est terminé : il n'attend plus aucune échéance.")
        if instance.status == "suspended":
            raise Conflict("Ce dossier est suspendu : ses échéances attendent sa reprise. Reprenez-le d'abord.")
        timer = waiting_timer(self.session, instance.id, timer_id)
        if expected_due_at is not None and timer.due_at != expected_due_at:
            raise TimerGone()
        return timer

    def _engine_task(self, loaded: LoadedWorkflow, instance: ProcessInstance, timer: WaitingTimer):
        task = find_task(loaded.workflow, timer.task_id)
        if task is None or timer.task_id not in self.instances.waiting_timers(instance.id):
            raise TimerGone()
        return task

    @staticmethod
    def _label(instance: ProcessInstance, timer: WaitingTimer) -> str:
        return label_of_element(bundle_for(instance.deployment), instance.process_id, timer.element)


def waiting_timer(session: Session, instance_id: int, timer_id: str) -> WaitingTimer:
    """A timer of an instance by its engine task, its row held until the transaction ends; `TimerGone` if none.

    On PostgreSQL a worker firing the timer holds its row: it is skipped, and the timer is no longer waiting
    for us, rather than both transactions waiting on each other's rows.
    """
    found = session.execute(select(Timer.task_id, Timer.spec_id, Timer.due_at)
                            .where(Timer.task_id == timer_id, Timer.instance_id == instance_id)
                            .with_for_update(skip_locked=True)).first()
    if found is None:
        raise TimerGone()
    return WaitingTimer(*found)
