"""Drafts of task forms: what a person typed and did not send, kept per task and person."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from engine.models import TaskDraft, TaskRow


def keep_draft(session: Session, row: TaskRow, person_id: int, data: dict, now: datetime) -> TaskDraft:
    """Record `data` as the person's draft of the task, replacing an earlier one (not committed)."""
    draft = session.get(TaskDraft, (row.id, person_id))
    if draft is None:
        draft = TaskDraft(task_id=row.id, person_id=person_id)
        session.add(draft)
    draft.data = data
    draft.saved_at = now
    row.draft_saved_at = now
    return draft


def draft_of(session: Session, row: TaskRow, person_id: int) -> TaskDraft | None:
    """The person's draft of the task, if they kept one."""
    if row.draft_saved_at is None:
        return None
    return session.get(TaskDraft, (row.id, person_id))


def discard_drafts(session: Session, rows: Iterable[TaskRow], keep_person_id: int | None = None) -> None:
    """Delete the drafts of these tasks: they were done, cancelled, or given to someone else.

    `keep_person_id` keeps that person's draft (the one a task was just reassigned to).
    """
    rows = [row for row in rows if row.draft_saved_at is not None]
    if not rows:
        return
    statement = delete(TaskDraft).where(TaskDraft.task_id.in_([row.id for row in rows]))
    if keep_person_id is not None:
        statement = statement.where(TaskDraft.person_id != keep_person_id)
    session.execute(statement)
    if keep_person_id is None:
        for row in rows:
            row.draft_saved_at = None
