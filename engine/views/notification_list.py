"""Pages of messages: a person's notifications and the platform's outbox, the newest first, cut by keyset.

The outbox grows with every dossier and every person: its pages start after
the last message shown (created_at, id, both descending), whose key the opaque
cursor carries (`engine.views.cursors`), so that the hundredth page costs what
the first does and a message sent between two pages moves no other.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from engine.models import Notification
from engine.views.cursors import decode_key, encode_key

# The first value of a message list's cursor: the other lists' cursors are refused here.
CURSOR_TAG = "messages"
# The outbox's filters, by the value of `?statut=`.
OUTBOX_STATES = ("pending", "sent", "failed")


@dataclass(frozen=True)
class NotificationPage:
    """One page of messages, the cursor of the next page if any, and how many messages the list holds."""

    items: list[Notification]
    next_cursor: str | None
    total: int


def _state_condition(state: str | None):
    """SQL condition of the outbox's filter (none for an unknown or empty one)."""
    if state == "pending":
        return and_(Notification.sent_at.is_(None), Notification.next_attempt_at.is_not(None))
    if state == "sent":
        return Notification.sent_at.is_not(None)
    if state == "failed":
        return and_(Notification.sent_at.is_(None), Notification.error.is_not(None))
    return None


def notification_page(session: Session, limit: int, cursor: str | None = None, *, person_id: int | None = None,
                      state: str | None = None) -> NotificationPage:
    """One page of messages, the newest first, after `cursor`: a person's own (`person_id`) or the whole outbox,
    within an outbox filter (`state`). Two statements whatever the page: the rows and their count."""
    conditions = []
    if person_id is not None:
        conditions.append(Notification.person_id == person_id)
    filtered = _state_condition(state)
    if filtered is not None:
        conditions.append(filtered)
    total = session.scalar(select(func.count()).select_from(Notification).where(*conditions)) or 0
    if cursor is not None:
        created, notice_id = decode_key(cursor, (f"={CURSOR_TAG}", "date", "id"))[1:]
        conditions.append(or_(Notification.created_at < created,
                              and_(Notification.created_at == created, Notification.id < notice_id)))
    rows = list(session.scalars(select(Notification).where(*conditions)
                                .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit + 1)))
    following = None
    if len(rows) > limit:
        following = encode_key([CURSOR_TAG, rows[limit - 1].created_at, rows[limit - 1].id])
    return NotificationPage(rows[:limit], following, total)
