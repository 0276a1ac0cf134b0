"""What running processes leave in the database: deployments, instances, tasks, history."""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base

if TYPE_CHECKING:
    from engine.models.directory import Establishment

INSTANCE_STATUSES = {
    "running": "En cours",
    "completed": "Terminé",
    "refused": "Refusé",
    "terminated": "Interrompu",
    "incident": "En incident",
    "suspended": "Suspendu",
}
# Statuses of an instance that has ended: nothing more happens to it.
FINISHED_STATUSES = ("completed", "refused", "terminated")


class Deployment(Base):
    """One deployed set of BPMN/DMN files, identified by the hash of their content."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Deferred: every instance load joins its deployment, but only a cold bundle cache reads the files.
    files: Mapped[dict] = mapped_column(JSON, deferred=True)
    process_ids: Mapped[list] = mapped_column(JSON)
    deployed_at: Mapped[datetime] = mapped_column(DateTime)
    deployed_by: Mapped[str | None] = mapped_column(String(200))


class ProcessInstance(Base):
    """A running or finished process, with its serialised engine state (without the spec)."""

    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_instance_scope", "process_id", "status", "department"),
        # The monitoring list, newest first, and trainings by organiser (migration 0011_perf).
        Index("ix_instance_updated", "updated_at", "id"),
        Index("ix_instance_structure", "structure_code"),
        # The dashboard: counts by process, version and status; throughput by end date (0009_monitoring).
        Index("ix_instance_monitoring", "process_id", "deployment_id", "status"),
        Index("ix_instance_ended", "process_id", "ended_at"),
        # The dashboard: a process's instances newest first, and started by week (0015_dashboard).
        Index("ix_instance_process_updated", "process_id", "updated_at", "id"),
        Index("ix_instance_created", "process_id", "created_at"),
        # The dossier list by creation, for clients walking every page (0027_list_orders).
        Index("ix_instance_created_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id"))
    process_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"), index=True)
    department: Mapped[str | None] = mapped_column(String(3))
    structure_code: Mapped[str | None] = mapped_column(String(40))
    campaign: Mapped[str | None] = mapped_column(String(9))
    status: Mapped[str] = mapped_column(String(12), default="running")
    outcome: Mapped[str | None] = mapped_column(String(100))
    current_step: Mapped[str | None] = mapped_column(String(500))
    incident: Mapped[str | None] = mapped_column(Text)
    # Where the incident happened, as "<process id>:<element id>", to place it on the diagram.
    incident_node: Mapped[str | None] = mapped_column(String(200))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    deployment: Mapped[Deployment] = relationship(lazy="joined")
    # Not loaded unless asked for: a completion joins it to the task it reads, lists join it themselves.
    establishment: Mapped[Establishment | None] = relationship(lazy="select", viewonly=True)
    # In its own table (0014_instance_state): lists, inboxes and task rows read instances often and never
    # need the engine state; running an instance reads it by primary key.
    engine_state: Mapped[InstanceState | None] = relationship(
        lazy="select", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def state(self) -> str:
        """The whole serialised engine state, its delta log folded in (loaded on first access).

        `engine.runtime.store` writes it: the full state with `write_state`, the changes of a save otherwise.
        """
        if self.engine_state is None:
            return ""
        return merge_state_text(self.engine_state.state, self.engine_state.delta or "")


class InstanceState(Base):
    """The serialised SpiffWorkflow state of an instance (without its process spec), saved by differences.

    `state` is the full state as last written whole; each save since added one row to `changes` (0028), with
    the tasks that changed and those that went: `merge_state` folds them in. Writing `state` deletes the
    instance's change rows in the database itself (trigger `instance_state_folded`), whoever writes it.
    """

    __tablename__ = "instance_state"

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    state: Mapped[str] = mapped_column(Text)
    # Written by plain INSERTs (`engine.runtime.store`), never through this collection.
    changes: Mapped[list[StateChange]] = relationship(lazy="select", viewonly=True,
                                                      order_by="StateChange.version")

    @property
    def delta(self) -> str:
        """The delta log: one JSON line per save since the full state, oldest first."""
        return "".join(change.line for change in self.changes)


class StateChange(Base):
    """One save's changes to an instance's engine state, a JSON line, until the full state is written again.

    Appended as a row of its own rather than to a column of the state's row: an append then writes this line
    only, where growing a column rewrites the whole log (and, in SQLite, the full state sharing its row).
    """

    __tablename__ = "instance_state_change"

    instance_id: Mapped[int] = mapped_column(ForeignKey("instance_state.instance_id", ondelete="CASCADE"),
                                             primary_key=True)
    # The instance's version the save gave: the order of the lines.
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[str] = mapped_column(Text)


def ordered_log(tagged: str | None) -> str:
    """The delta log from its lines as the database aggregates them, each tagged « <version>\\t », in any order.

    Aggregating strings in a given order is not portable (SQLite has no ORDER BY in its aggregates before 3.44):
    each line carries its version, and the lines are put in order here. JSON text holds no raw tab or newline.
    """
    if not tagged:
        return ""
    lines = [line.split("\t", 1) for line in tagged.splitlines() if line]
    return "".join(f"{text}\n" for _version, text in sorted(lines, key=lambda parts: int(parts[0])))


def merge_state(state: dict, delta: str, parse: Callable[[str], Any] = json.loads) -> dict:
    """Fold a delta log into a full state's dictionary (changed in place, and returned).

    Each line names the subprocesses still present and, by process (`""` for the top one), the process's own
    fields, its tasks written again and the ids of its tasks that went. `parse` reads a line's JSON (the
    engine's loader restores the values it holds as it parses).
    """
    for line in delta.splitlines():
        if not line:
            continue
        change = parse(line)
        subprocesses = state.setdefault("subprocesses", {})
        for key in [key for key in subprocesses if key not in change["procs"]]:
            del subprocesses[key]
        for key, part in change["p"].items():
            target = state if key == "" else subprocesses.setdefault(key, {"tasks": {}})
            target.update(part["meta"])
            tasks = target.setdefault("tasks", {})
            tasks.update(part["tasks"])
            for task_id in part["gone"]:
                tasks.pop(task_id, None)
    return state


def merge_state_text(state: str, delta: str) -> str:
    """A full state as JSON text, with its delta log folded in (the text itself when there is none)."""
    if not delta:
        return state
    return json.dumps(merge_state(json.loads(state), delta))


class TaskRow(Base):
    """A user task as the inbox sees it, kept in step with the engine state."""

    __tablename__ = "task"
    __table_args__ = (
        # The inbox: ready tasks of a lane by establishment or structure, in the keyset order of its pages
        # (due date, creation, id; 0023_inbox_keyset).
        Index("ix_task_inbox_establishment_keyset", "state", "lane", "establishment_id", "due_at", "created_at", "id"),
        Index("ix_task_inbox_structure_keyset", "state", "lane", "structure_code", "due_at", "created_at", "id"),
        Index("ix_task_to_notify", "state", "notified_at"),
        # The dashboard: waiting tasks by step and age, overdue tasks (0009_monitoring).
        Index("ix_task_waiting_step", "state", "spec_id", "created_at"),
        Index("ix_task_overdue", "state", "due_at"),
        # Tasks by instance, and the waiting tasks of the instances of a dashboard page (0015_dashboard).
        Index("ix_task_instance_state", "instance_id", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    process_id: Mapped[str] = mapped_column(String(100))
    spec_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(40))
    establishment_id: Mapped[int | None] = mapped_column(ForeignKey("establishment.id"))
    department: Mapped[str | None] = mapped_column(String(3))
    structure_code: Mapped[str | None] = mapped_column(String(40))
    place: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="ready")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    # One eligible person the task was reassigned to; None: anyone of the lane and scope may do it.
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL", name="fk_task_assignee_id_person"), index=True)
    # When the people who may do the task were told by email; the worker fills it after the commit.
    notified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When someone last kept a draft of the task's form: its drafts go when it leaves the inbox, and a task that
    # never had one costs no look-up then.
    draft_saved_at: Mapped[datetime | None] = mapped_column(DateTime)

    instance: Mapped[ProcessInstance] = relationship(lazy="joined")


class TaskDraft(Base):
    """What one person typed in a task's form without sending it, kept until the task is done or reassigned."""

    __tablename__ = "task_draft"

    task_id: Mapped[str] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    # The form's data as typed: files already received are document references, like a submission's.
    data: Mapped[dict] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(DateTime)


class AuditEvent(Base):
    """Who did what and when on an instance, with the data submitted."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    spec_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    data: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime)


class Document(Base):
    """A document produced by a handler or uploaded, stored under STORAGE_DIR."""

    __tablename__ = "document"
    __table_args__ = (Index("ix_document_series", "instance_id", "series"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Successive versions of one document (a regenerated contract, a new signed copy) share a series and are
    # numbered from 1; older versions are kept. `place` is the volunteer place the document belongs to.
    series: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int | None] = mapped_column(Integer)
    place: Mapped[int | None] = mapped_column(Integer)


class Notification(Base):
    """A message sent to someone by the platform, kept as a record of what was said."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_pending", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(Text)
    # The user the message is for, when the recipient has an account: they also read it in the app.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), index=True)
    link: Mapped[str | None] = mapped_column(String(300))
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Delivery is retried with a growing delay (None once given up); a worker claims a message before sending it.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)


class VolunteerContract(Base):
    """A Service Civique contract drawn up on the platform, to find duplicates and invite volunteers."""

    __tablename__ = "volunteer_contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    establishment_id: Mapped[int] = mapped_column(ForeignKey("establishment.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Indexed: a person's other contracts are looked up by name and birth date (one Service Civique, ever).
    birth_date: Mapped[str] = mapped_column(String(10), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[str] = mapped_column(String(10))
    end_date: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # One contract per volunteer place of an instance: regenerating it updates the row.
    place: Mapped[int | None] = mapped_column(Integer)
    # The version of the contract's document this row describes, the one printed on it.
    version: Mapped[int | None] = mapped_column(Integer)


# One row per place of an instance, and one for the instance of a project with a single place, which records its
# contract without a place: NULLs never collide in a unique index, hence one partial index for each case. An upsert
# names the one its row falls under as its conflict target (`engine.directory.lookups.SqlContracts.record`).
_NUMBERED = VolunteerContract.place.is_not(None)
_UNNUMBERED = VolunteerContract.place.is_(None)
CONTRACT_OF_PLACE = Index("uq_volunteer_contract_place", VolunteerContract.instance_id, VolunteerContract.place,
                          unique=True, sqlite_where=_NUMBERED, postgresql_where=_NUMBERED)
CONTRACT_WITHOUT_PLACE = Index("uq_volunteer_contract_no_place", VolunteerContract.instance_id, unique=True,
                               sqlite_where=_UNNUMBERED, postgresql_where=_UNNUMBERED)
