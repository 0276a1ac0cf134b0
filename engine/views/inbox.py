"""The inbox: the ready tasks a person may complete, read one page at a time, and their counts by kind.

Pages are cut by keyset, not by offset: the inbox's order is (due date, none
last; creation; id), and the page after another starts strictly after the last
task it showed, whose key the opaque cursor carries. A task completed between
two pages moves no other task from one page to the next, and reading the
hundredth page costs what the first does: the inbox indexes hold that order
(0023_inbox_keyset). The cursor's text is written and checked by
`engine.views.cursors`. The scope rules are in the SQL (`engine.access.inbox_filter`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, lazyload

from engine.access import Principal, inbox_filter
from engine.models import Establishment, ProcessInstance, TaskRow
from engine.views.cursors import InvalidCursor as InvalidCursor  # raised by `Cursor.decode`; tests import it here
from engine.views.cursors import decode_key, encode_key

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

InboxRow = tuple[TaskRow, ProcessInstance, Establishment | None]


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the key of its last task in the inbox's order."""

    due_at: datetime | None
    created_at: datetime
    task_id: str

    @classmethod
    def after(cls, task: TaskRow) -> Cursor:
        """The cursor of the page ending with `task`."""
        return cls(task.due_at, task.created_at, task.id)

    def encode(self) -> str:
        """The opaque text given to clients (`engine.views.cursors.encode_key`)."""
        return encode_key([self.due_at, self.created_at, self.task_id])

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor `encode` wrote; `InvalidCursor` for anything else."""
        due, created, task_id = decode_key(text, ("date?", "date", "text"))
        return cls(due, created, task_id)


@dataclass(frozen=True)
class InboxFilter:
    """Which ready tasks a list shows: one kind of task (its BPMN id), one campaign; None shows all."""

    step: str | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox: its rows (task, instance, establishment) and the cursor of the next page, if any."""

    rows: list[InboxRow]
    next_cursor: str | None
    limit: int


def actionable_conditions(principal: Principal, only: InboxFilter):
    """The conditions of a ready task the principal may complete now, within the filter."""
    conditions = [TaskRow.state == "ready", inbox_filter(principal),
                  # A suspended instance's tasks wait out of the inbox until it resumes.
                  ProcessInstance.status != "suspended"]
    if only.step:
        conditions.append(TaskRow.spec_id == only.step)
    if only.campaign:
        conditions.append(ProcessInstance.campaign == only.campaign)
    return conditions


def _after(cursor: Cursor):
    """SQL condition on the tasks strictly after the cursor in the order (due date none last, creation, id)."""
    later_same_due = or_(TaskRow.created_at > cursor.created_at,
                         and_(TaskRow.created_at == cursor.created_at, TaskRow.id > cursor.task_id))
    if cursor.due_at is None:
        return and_(TaskRow.due_at.is_(None), later_same_due)
    return or_(TaskRow.due_at > cursor.due_at, and_(TaskRow.due_at == cursor.due_at, later_same_due),
               TaskRow.due_at.is_(None))


def inbox_page(session: Session, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None,
               only: InboxFilter | None = None) -> InboxPage:
    """One page of the ready tasks the principal may complete, the most urgent first (due date, tasks without
    one last; then the oldest), starting after `cursor` (the first page without it).

    One statement: a row more than the page is read to know whether another page follows.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit {limit} hors de 1..{MAX_LIMIT}")
    conditions = actionable_conditions(principal, only or InboxFilter())
    if cursor is not None:
        conditions.append(_after(Cursor.decode(cursor)))
    # Rows unpack as (task, instance, establishment); the establishment is None for trainings.
    rows = cast(list[InboxRow], session.execute(
        select(TaskRow, ProcessInstance, Establishment)
        .join(ProcessInstance, ProcessInstance.id == TaskRow.instance_id)
        .outerjoin(Establishment, Establishment.id == TaskRow.establishment_id)
        .where(*conditions)
        .order_by(TaskRow.due_at.asc().nulls_last(), TaskRow.created_at, TaskRow.id)
        .limit(limit + 1)
        # Each row's instance is the one selected beside it: joining it a second time for the task's
        # relationship would double the widest part of every row.
        .options(lazyload(TaskRow.instance))
    ).all())
    following = Cursor.after(rows[limit - 1][0]).encode() if len(rows) > limit else None
    return InboxPage(rows[:limit], following, limit)


@dataclass
class TaskGroup:
    """Ready tasks of one kind in one campaign: how many, how many are late, the next due date, the oldest."""

    spec_id: str
    title: str
    campaign: str | None = None
    count: int = 0
    overdue: int = 0
    next_due: datetime | None = None
    oldest: datetime | None = None
    # The task itself when the group holds only one: its title then opens it rather than a list of one.
    only_task_id: str | None = None


def task_groups(session: Session, principal: Principal, now: datetime) -> list[TaskGroup]:
    """The ready tasks the principal may complete, counted by kind and campaign in one GROUP BY statement (a
    gestionnaire may review next year's projects while drawing up this year's last contracts), the most urgent
    first: late groups, then the nearest due date, then the oldest waiting."""
    rows = session.execute(
        select(TaskRow.spec_id, ProcessInstance.campaign, func.min(TaskRow.title), func.count(),
               func.count(case((TaskRow.due_at < now, 1))), func.min(TaskRow.due_at), func.min(TaskRow.created_at), func.min(TaskRow.id))
        .join(ProcessInstance, ProcessInstance.id == TaskRow.instance_id)
        .where(*actionable_conditions(principal, InboxFilter()))
        .group_by(TaskRow.spec_id, ProcessInstance.campaign)
    ).all()
    groups = [TaskGroup(spec_id, title, campaign, count, overdue, next_due, oldest, first_id if count == 1 else None)
              for spec_id, campaign, title, count, overdue, next_due, oldest, first_id in rows]
    return sorted(groups, key=lambda g: (g.overdue == 0, g.next_due is None, g.next_due or now, g.oldest or now,
                                         g.spec_id, g.campaign or ""))
