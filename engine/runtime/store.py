"""The instance store: reading an instance's workflow, and writing what a change of it leaves, in one commit.

Owns the optimistic claim on the instance row's version, the engine state row (`instance_state`, written
here and nowhere else by the runtime: the changes of each save appended to its delta log, the full state
again when the log grows heavy, see `engine.runtime.serialization`), the task rows (`engine.runtime.tasks.sync_task_rows`), the timer rows
(`engine.runtime.timers.sync_timers`), the audit events of a change, and the workflows kept between requests
(`engine.runtime.workflow_cache`). It runs no engine step and calls no handler: `ProcessRuntime` does.
"""
from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Set
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from sqlalchemy import String, and_, bindparam, cast, func, insert, inspect, literal, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction, contains_eager
from sqlalchemy.orm.attributes import flag_modified, set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine.access import Principal
from engine.db import SERVER_PREPARED
from engine.errors import CONCURRENT_CHANGE, Conflict
from engine.models import AuditEvent, Campaign, InstanceState, ProcessInstance, StateChange, TaskRow
from engine.models.runtime import FINISHED_STATUSES, ordered_log
from engine.prepared import PreparedWrite
from engine.runtime.compaction import compact_workflow
from engine.runtime.deployment import ProcessBundle, bundle_for
from engine.runtime.serialization import STORED, StateSerializer, StoredState, signatures
from engine.runtime.tasks import instance_status, ready_user_tasks, sync_task_rows, task_title
from engine.runtime.timers import WaitingTimers, forget_timer, sync_timers, waiting_timers
from engine.runtime.workflow_cache import WORKFLOWS, identity_of

log = logging.getLogger(__name__)

# Statements of every completion, built once.
# The task, the other ready tasks of its instance (saving needs them), the instance with its establishment and
# its campaign (handlers often ask for it).
READY_SIBLINGS = (
    select(TaskRow, Campaign).join(TaskRow.instance)
    .outerjoin(Campaign, Campaign.school_year == ProcessInstance.campaign)
    .options(contains_eager(TaskRow.instance).joinedload(ProcessInstance.establishment))
    .where(TaskRow.instance_id == select(TaskRow.instance_id).where(TaskRow.id == bindparam("task_id"))
           .scalar_subquery(), TaskRow.state == "ready")
    .execution_options(**SERVER_PREPARED)
)
_CHANGES = StateChange.__table__


def _tagged_log(instance_id: Any) -> Any:
    """An instance's delta log in one value, each line tagged with its version (see `ordered_log`)."""
    return (select(func.aggregate_strings(cast(_CHANGES.c.version, String) + literal("\t") + _CHANGES.c.line, ""))
            .where(_CHANGES.c.instance_id == instance_id).scalar_subquery())


# The same with the engine state, for a process that has no workflow of the instance at hand: on the task's own
# row only, so that several ready tasks do not bring several copies of it.
READY_SIBLINGS_WITH_STATE = (
    READY_SIBLINGS.add_columns(InstanceState.state, _tagged_log(TaskRow.instance_id).label("log"))
    .outerjoin(InstanceState, and_(InstanceState.instance_id == TaskRow.instance_id,
                                   TaskRow.id == bindparam("task_id")))
)
_INSTANCES = ProcessInstance.__table__
CLAIM = PreparedWrite(update(_INSTANCES).where(_INSTANCES.c.id == bindparam("instance_id"),
                                                _INSTANCES.c.version == bindparam("read_version"))
                       .values(version=_INSTANCES.c.version))
# An instance's stored state and delta log, in one statement.
STORED_STATE = (select(InstanceState.state, _tagged_log(InstanceState.instance_id).label("log"))
                .where(InstanceState.instance_id == bindparam("instance_id")).execution_options(**SERVER_PREPARED))
# How much heavier than the full state the delta log may grow before the full state is written again: a save
# appends about a third of the full state; a load (in a process without the workflow at hand) parses both.
DELTA_LOG_RATIO = 2
_STATES = InstanceState.__table__
_EVENTS = AuditEvent.__table__
ADD_EVENT = PreparedWrite(insert(_EVENTS))
# Writing the full state deletes the instance's change rows (the database's trigger `instance_state_folded`).
WRITE_STATE = PreparedWrite(update(_STATES).where(_STATES.c.instance_id == bindparam("state_of"))
                            .values(state=bindparam("full")))
# The instance row's columns a save may write, by attribute (all but its id and version).
_INSTANCE_COLUMNS = {column.key: column for column in _INSTANCES.columns if column.key not in ("id", "version")}


@lru_cache(maxsize=64)
def _instance_update(keys: frozenset[str]) -> PreparedWrite:
    """The versioned UPDATE of an instance row's columns `keys` (bound by name), built once per set of columns."""
    return PreparedWrite(update(_INSTANCES).where(_INSTANCES.c.id == bindparam("instance_id"),
                                                  _INSTANCES.c.version == bindparam("read_version"))
                         .values({_INSTANCE_COLUMNS[key]: bindparam(key) for key in keys}
                                 | {_INSTANCES.c.version: bindparam("read_version") + 1}))


APPEND_STATE = PreparedWrite(insert(_CHANGES))
# The timers each kept workflow waited on when it was saved: a request taking it from the cache finds them here
# instead of walking its task tree again. (Weak keys: an entry goes with its workflow.)
_SAVED_TIMERS: weakref.WeakKeyDictionary[BpmnWorkflow, WaitingTimers] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class OpenState:
    """What an instance waits on as a save left it: its ready task rows, oldest first, and its timers."""

    tasks: list[TaskRow]
    timers: WaitingTimers


@dataclass(frozen=True)
class LoadedWorkflow:
    """An instance's restored workflow, with the deployed bundle (specs, serializer, forms) it runs on."""

    workflow: BpmnWorkflow
    bundle: ProcessBundle


def write_state(session: Session, instance: ProcessInstance, text: str) -> None:
    """Write an instance's whole serialised engine state, emptying its delta log; it gets a new version on flush.

    For changes made outside a save (anonymisation, tests): `InstanceStore.save` writes the state itself.
    """
    _write_full_state(session, instance, text)
    _new_version(instance)


def _write_full_state(session: Session, instance: ProcessInstance, text: str) -> None:
    row = inspect(instance)
    if row.persistent and "engine_state" in row.unloaded:
        # Written without reading the old state first: a request that ran a cached workflow never needed it.
        WRITE_STATE.execute(session, {"state_of": instance.id, "full": text})
    elif instance.engine_state is None:
        instance.engine_state = InstanceState(state=text)
    else:
        stored = instance.engine_state
        stored.state = text
        # Written even when the text is the same: the UPDATE is what deletes the change rows (the trigger).
        flag_modified(stored, "state")
        set_committed_value(stored, "changes", [])


def _append_state(session: Session, instance: ProcessInstance, line: str) -> None:
    """Append the changes of a save to an instance's delta log, as the row of the version the save gives it."""
    row = inspect(instance)
    if not row.persistent or ("engine_state" not in row.unloaded and instance.engine_state is None):
        raise ValueError("Un dossier sans état enregistré ne s'écrit pas par différences.")
    APPEND_STATE.execute(session, {"instance_id": instance.id, "version": instance.version, "line": line})
    if "engine_state" not in row.unloaded and "changes" not in inspect(instance.engine_state).unloaded:
        session.expire(instance.engine_state, ["changes"])


def _new_version(instance: ProcessInstance) -> None:
    row = inspect(instance)
    if row.persistent:
        # A new state is a new version of the instance, even when no column of its row changes: the
        # version is what concurrent writers and the workflow cache compare. (Reading the value first
        # loads it if it was expired: only a loaded attribute can be flagged.)
        _ = row.attrs.updated_at.value
        flag_modified(instance, "updated_at")


class InstanceStore:
    """Loads and saves the instances of one database session; each save is one commit."""

    def __init__(self, session: Session, clock: Callable[[], datetime]):
        self.session = session
        self.clock = clock
        # Timers each loaded instance waited on, which its timer rows hold: saving writes only what changed.
        self._timers: dict[int, WaitingTimers] = {}
        # Ready task rows of an instance as the runtime read them; the version check guards their freshness.
        self._ready_rows: dict[int, list[TaskRow]] = {}
        # What each instance saved with its ready rows known waits on: the answer to the request needs not read it.
        self._open: dict[int, OpenState] = {}
        # The campaign of each instance whose ready rows were read (None: none on record), read with them.
        self._campaigns: dict[int, Campaign | None] = {}
        # The stored state (full, delta log) of each instance read with its ready rows, for `load`.
        self._states: dict[int, tuple[str, str]] = {}
        # The transaction that holds each claimed instance's row (see `claim`): a later one holds nothing.
        self._claimed: dict[int, SessionTransaction] = {}

    def add(self, instance: ProcessInstance) -> None:
        """Insert a new instance with its empty state row, so that it has an id before its workflow runs."""
        instance.engine_state = InstanceState(state="")
        self.session.add(instance)
        self.session.flush()

    def ready_siblings(self, task_id: str) -> list[TaskRow]:
        """The ready task rows of the instance of a task (with the task itself while it is still ready).

        The instance's stored state comes in the same statement when this process holds no workflow that had
        the task ready (`load` then needs it).
        """
        with_state = not WORKFLOWS.holds_task(task_id)
        rows = []
        for found in self.session.execute(READY_SIBLINGS_WITH_STATE if with_state else READY_SIBLINGS,
                                          {"task_id": task_id}):
            row = found[0]
            rows.append(row)
            self._campaigns[row.instance_id] = found[1]
            if with_state and found.state is not None:
                self._states[row.instance_id] = (found.state, ordered_log(found.log))
        return rows

    def campaign_read(self, instance_id: int) -> tuple[bool, Campaign | None]:
        """Whether the campaign of an instance was read with its ready rows, and that campaign (or None)."""
        return instance_id in self._campaigns, self._campaigns.get(instance_id)

    def load(self, instance: ProcessInstance, for_change: bool = True,
             ready_rows: list[TaskRow] | None = None) -> LoadedWorkflow:
        """Restore an instance's workflow, without a script engine: the runtime sets its own.

        To change it, the workflow this process saved last for the instance is taken when the row still has
        the version it was saved at. To read it only (`for_change` False), the state is always deserialised
        and that kept workflow stays for the change that usually follows. `ready_rows` are the instance's
        ready task rows read in this transaction, which saving then needs not read again.
        """
        bundle = bundle_for(instance.deployment)
        workflow = WORKFLOWS.take(instance.id, identity_of(instance)) if for_change else None
        timers = _SAVED_TIMERS.get(workflow) if workflow is not None else None
        if workflow is None:
            stored = self._states.pop(instance.id, None)
            full, delta = stored if stored is not None else self._stored_state(instance)
            workflow = bundle.serializers[instance.process_id].loads(full, delta)
            STORED[workflow] = StoredState(signatures(workflow), len(full), len(delta))
        self._timers[instance.id] = dict(timers) if timers is not None else waiting_timers(workflow)
        if ready_rows is not None:
            self._ready_rows[instance.id] = ready_rows
        return LoadedWorkflow(workflow, bundle)

    def _stored_state(self, instance: ProcessInstance) -> tuple[str, str]:
        found = self.session.execute(STORED_STATE, {"instance_id": instance.id}).first()
        return (found.state, ordered_log(found.log)) if found is not None else ("", "")

    def waiting_timers(self, instance_id: int) -> WaitingTimers:
        """The timers a loaded instance waited on when it was loaded."""
        return self._timers[instance_id]

    def drop_timer(self, instance_id: int, task_id: str) -> None:
        """Remove, and commit, the row of a timer the instance no longer waits on."""
        forget_timer(self.session, instance_id, task_id)
        self.session.commit()

    def restore_timers(self, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
        """Write again every timer row of an instance whose rows were removed (a suspended instance resuming)."""
        self._timers.pop(instance.id, None)
        sync_timers(self.session, instance, {}, waiting_timers(workflow))

    def claim(self, instance: ProcessInstance) -> None:
        """Hold the instance's row for this transaction, unless someone changed it since it was read.

        Called before the first handler of a change runs (and by operations that write before saving); a change
        that runs no handler is claimed by its save's versioned UPDATE of the row, one statement less. Claiming
        again in the same transaction costs nothing.

        Handlers write rows of their own (training sessions, contracts, documents) while the engine runs, and
        flush them before the instance is saved: a concurrent change must turn this transaction away before
        they run, as a conflict, not fail later on a duplicate row. PostgreSQL locks the row; SQLite takes
        its single write lock. Either way the other writer waits, then finds the version changed.
        """
        held_by = self._claimed.get(instance.id)
        if held_by is not None and held_by is self.session.get_transaction():
            return
        try:
            # Never autoflushed (a prepared write): changes the caller already made to the instance must not be
            # written (and its version raised) before the claim compares versions.
            claimed = CLAIM.execute(self.session, {"instance_id": instance.id, "read_version": instance.version})
        except OperationalError as error:
            if "locked" not in str(error).lower():
                raise
            claimed = 0
        if claimed != 1:
            log.warning("Conflit : dossier modifié entre-temps", extra={"instance_id": instance.id})
            self.session.rollback()
            raise Conflict(CONCURRENT_CHANGE)
        transaction = self.session.get_transaction()
        if transaction is not None:
            self._claimed[instance.id] = transaction

    def record(self, instance: ProcessInstance, row: TaskRow | None, kind: str, summary: str,
               principal: Principal | None, data: dict | None) -> None:
        """Add the audit event of a change (and one for the incident the instance is left in, if any).

        Inserted at once, without ORM objects (nothing reads them back before the commit): the unit of work
        then has less to sort and flush.
        """
        events = [{"instance_id": instance.id, "task_id": row.id if row else None,
                   "spec_id": row.spec_id if row else None, "kind": kind, "summary": summary[:500],
                   "actor_id": principal.person_id if principal else None, "data": data, "at": self.clock()}]
        if instance.incident:
            events.append({"instance_id": instance.id, "task_id": None, "spec_id": None, "kind": "incident",
                           "summary": instance.incident[:500], "actor_id": None, "data": None, "at": self.clock()})
        ADD_EVENT.execute(self.session, events)

    def _write(self, instance: ProcessInstance, workflow: BpmnWorkflow, serializer: StateSerializer) -> StoredState:
        """Write the workflow's changes since its stored state, or its whole state; return what is then stored.

        The whole state is written for a workflow that stands for no stored state (just started, migrated) and
        when the delta log would weigh more than `DELTA_LOG_RATIO` times the full state: loading then parses at
        most that many times its size again.
        """
        before = STORED.get(workflow)
        now = None
        if before is not None:
            room = DELTA_LOG_RATIO * before.full_chars - before.delta_chars
            line, now = serializer.changes(workflow, before.signatures, room, before.full_chars)
            if line is not None and len(line) <= room:
                _append_state(self.session, instance, line)
                return StoredState(now, before.full_chars, before.delta_chars + len(line))
        text = serializer.dumps(workflow)
        _write_full_state(self.session, instance, text)
        return StoredState(now if now is not None else signatures(workflow), len(text), 0)

    def open_state(self, instance_id: int) -> OpenState | None:
        """What an instance this store saved (its ready rows known) waits on since, without a statement."""
        return self._open.get(instance_id)

    def save(self, loaded: LoadedWorkflow, instance: ProcessInstance, principal: Principal | None,
             completed: Set[str] = frozenset()) -> None:
        """Write the instance's row, state, task rows and timer rows, and commit; `Conflict` if it changed.

        The instance's row is written first, on the condition that its version is still the one read: that is
        the claim of a change no handler claimed before (see `claim`), and it takes the row's lock before the
        state row's, in the order every writer of an instance takes them.
        """
        workflow, bundle = loaded.workflow, loaded.bundle
        now = self.clock()
        instance_id = instance.id  # read now: a failed flush expires the instance's attributes
        compact_workflow(workflow)
        try:
            with self.session.no_autoflush:
                ready = ready_user_tasks(workflow)
                status, outcome = instance_status(workflow, instance.incident)
                row_values = {"status": status, "outcome": outcome, "updated_at": now,
                              "current_step": ", ".join(task_title(task) for task in ready.values())[:500] or None}
                if status in FINISHED_STATUSES and instance.ended_at is None:
                    row_values["ended_at"] = now
                self._write_instance(instance, row_values)
                stored = self._write(instance, workflow, bundle.serializers[instance.process_id])
                ready_rows = self._ready_rows.pop(instance.id, None)
                timers = waiting_timers(workflow)
                open_rows = sync_task_rows(self.session, ready, instance, now, completed,
                                           principal.person_id if principal else None, timers, ready_rows=ready_rows)
                sync_timers(self.session, instance, self._timers.pop(instance.id, {}), timers)
            self.session.commit()
            STORED[workflow] = stored
            _SAVED_TIMERS[workflow] = timers
            if ready_rows is not None:
                self._open[instance_id] = OpenState(open_rows, timers)
            WORKFLOWS.keep(instance_id, identity_of(instance), workflow, ready)
        except StaleDataError as error:
            self._conflict(instance_id, error)
        except OperationalError as error:
            # SQLite refuses to upgrade a read snapshot that another writer made stale.
            if "locked" not in str(error).lower():
                self.session.rollback()
                raise
            self._conflict(instance_id, error)

    def _write_instance(self, instance: ProcessInstance, values: dict[str, Any]) -> None:
        """Write `values` and the instance's other pending changes with its next version, if its version is still
        the one read.

        One plain UPDATE instead of the unit of work's: the values are then set as written, so that the commit
        finds nothing to flush for the instance (and usually nothing at all).
        """
        state = inspect(instance)
        pending = {key: state.dict[key] for key in state.committed_state if key in _INSTANCE_COLUMNS}
        # A column whose value stays is left out of the SET: SQLite rewrites the entries of every index on a
        # column the UPDATE sets, changed or not (the status is in two of them).
        values = {**pending, **{key: value for key, value in values.items()
                                if key not in state.dict or state.dict[key] != value}}
        read_version = instance.version
        matched = _instance_update(frozenset(values)).execute(
            self.session, {**values, "instance_id": instance.id, "read_version": read_version})
        if matched != 1:
            raise StaleDataError("Le dossier a changé depuis sa lecture.")
        for key, value in values.items():
            set_committed_value(instance, key, value)
        set_committed_value(instance, "version", read_version + 1)

    def _conflict(self, instance_id: int, error: Exception) -> None:
        log.warning("Conflit : dossier modifié entre-temps", extra={"instance_id": instance_id})
        self.session.rollback()
        raise Conflict(CONCURRENT_CHANGE) from error
