"""The background worker: fires due BPMN timers, announces new tasks, delivers queued messages, and once a day
synchronises the directory with Isidoor's export when a source is configured (`engine.directory.sync`).

Any number of workers may run at once, on one machine or several: each timer
and each message is claimed before it is handled (see `engine.runtime.claims`), so it
is handled once. Each timer fires in its own transaction with the instance's
new state, task rows and timer rows: a worker that dies mid-way leaves either
the timer done or the timer still due, never half of it.

The clock is injectable: tests move time forward and call `run_once` without
sleeping.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from engine.directory.sync import SyncSettings, synchronise_if_due
from engine.mail import deliver_pending, transport_from_settings
from engine.models import ProcessInstance, Timer
from engine.ops.heartbeat import record_heartbeat
from engine.runtime.claims import LEASE, claim_next, release
from engine.runtime.notices import announce_new_tasks
from engine.runtime.runtime import Conflict, ProcessRuntime, RuntimeSettings

log = logging.getLogger(__name__)

# Firing a timer is one engine step whose scripts each have a budget of about a second: a claim held longer
# than this belongs to a worker that died, and the timer goes to another.
TIMER_LEASE = timedelta(seconds=60)
# A timer whose transaction failed on the database side (connection cut, server restarted) is tried again soon.
RETRY_AFTER = timedelta(seconds=5)


@dataclass
class PassReport:
    """What one pass of a worker did."""

    timers_fired: int = 0
    timers_failed: int = 0
    tasks_announced: int = 0
    messages_sent: int = 0
    directory_synchronised: bool = False


def default_worker_name() -> str:
    """A name unique to this process: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """One background worker on a database, with its own name and clock.

    `runtime` is what the process runtime firing timers needs; `settings` are the mail settings (SMTP_URL,
    MAIL_DIR, MAIL_SENDER, BASE_URL), which only delivering messages reads, and those of the directory's
    synchronisation (DIRECTORY_SYNC_SOURCE, DIRECTORY_SYNC_TOKEN, DIRECTORY_SYNC_HOUR; none runs without a source).
    """

    def __init__(self, sessions: sessionmaker, runtime: RuntimeSettings, settings: dict, name: str | None = None,
                 clock: Callable[[], datetime] = datetime.now, batch: int = 200):
        self.sessions = sessions
        self.runtime = runtime
        self.settings = settings
        self.name = name or default_worker_name()
        self.clock = clock
        self.batch = batch
        self.directory_sync = SyncSettings.from_settings(settings)

    def run_once(self) -> PassReport:
        """Do everything that is due now, then record a heartbeat; return what was done."""
        now = self.clock()
        report = PassReport()
        with self.sessions() as session:
            self._fire_due_timers(session, now, report)
        with self.sessions() as session:
            report.tasks_announced = announce_new_tasks(session, now, self.batch)
        with self.sessions() as session:
            report.messages_sent = deliver_pending(
                session, transport_from_settings(self.settings), self.settings.get("MAIL_SENDER", ""),
                base_url=self.settings.get("BASE_URL"), now=now, worker=self.name, limit=self.batch)
        if self.directory_sync.enabled:
            with self.sessions() as session:
                report.directory_synchronised = synchronise_if_due(session, self.directory_sync, now) is not None
        with self.sessions() as session:
            record_heartbeat(session, self.name, asdict(report))
            session.commit()
        return report

    def run_forever(self, stop: threading.Event, interval: float) -> None:
        """Run passes every `interval` seconds until `stop` is set; a failing pass is logged, not fatal."""
        log.info("Tâches de fond « %s » démarrées (toutes les %s s).", self.name, interval)
        while not stop.is_set():
            try:
                report = self.run_once()
                if report.timers_fired or report.tasks_announced or report.messages_sent or report.directory_synchronised:
                    log.info("Passage : %s", report)
            except Exception:  # the database or the mail server may be away: the next pass tries again
                log.exception("Échec d'un passage des tâches de fond")
            stop.wait(interval)

    def _fire_due_timers(self, session: Session, now: datetime, report: PassReport) -> None:
        for _ in range(self.batch):
            timer_id = claim_next(session, Timer, Timer.due_at < now, Timer.due_at, self.name, now, TIMER_LEASE)
            if timer_id is None:
                return
            if self._fire(session, timer_id, now):
                report.timers_fired += 1
            else:
                report.timers_failed += 1

    def _fire(self, session: Session, timer_id: int, now: datetime) -> bool:
        # Read as plain values: firing rewrites timer rows, and a kept object would shadow a row reusing its id.
        timer = session.execute(select(Timer.instance_id, Timer.task_id).where(Timer.id == timer_id)).first()
        if timer is None:
            session.rollback()
            return False
        instance_id, task_id = timer
        runtime = ProcessRuntime(session, self.runtime, clock=lambda: now)
        try:
            runtime.fire_timers(session.get_one(ProcessInstance, instance_id), task_id)
        except Conflict:
            # Someone changed the instance meanwhile: the timer is tried again at the next pass.
            session.rollback()
            release(session, Timer, timer_id)
            return False
        except DBAPIError:
            # The database failed, not the instance: the claim goes with the failed transaction, and the timer is
            # tried again within seconds (by this worker or another), not after a whole lease.
            log.warning("Échéance %s du dossier %s : la base de données a échoué, nouvel essai dans %s s",
                        timer_id, instance_id, int(RETRY_AFTER.total_seconds()), exc_info=True)
            session.rollback()
            session.close()
            # On PostgreSQL the claim went with the transaction; on SQLite it is this worker's lease. Either way,
            # a claim another worker took since is left alone.
            session.execute(update(Timer).where(Timer.id == timer_id,
                                                or_(Timer.claimed_by.is_(None), Timer.claimed_by == self.name))
                            .values(claimed_by=None, claimed_until=now + RETRY_AFTER)
                            .execution_options(synchronize_session=False))
            session.commit()
            return False
        except Exception:  # a broken instance must not stop the others: it waits out a lease, then again
            log.exception("Échéance %s du dossier %s non traitée", timer_id, instance_id)
            session.rollback()
            session.execute(update(Timer).where(Timer.id == timer_id)
                            .values(claimed_by=self.name, claimed_until=now + LEASE)
                            .execution_options(synchronize_session=False))
            session.commit()
            return False
        return True
