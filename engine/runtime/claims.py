"""Claiming one row of a work queue (timers, messages) so that two workers never do the same work.

PostgreSQL locks the claimed row (`SELECT … FOR UPDATE SKIP LOCKED`) until the
caller's transaction ends: the claim and the work commit or roll back together,
and a worker that dies leaves the row to the next one at once.

SQLite has no row locks: the claim is an atomic conditional `UPDATE` committed
at once, a lease (`claimed_by`, `claimed_until`) that other workers respect
until it expires; a worker that dies leaves its row to others after the lease.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from engine.db import rows_matched

LEASE = timedelta(minutes=5)


def unclaimed(model, now: datetime):
    """SQL condition: the row is claimed by nobody, or its lease has expired."""
    return or_(model.claimed_until.is_(None), model.claimed_until < now)


def claim_next(session: Session, model, ready, order_by, worker: str, now: datetime,
               lease: timedelta = LEASE) -> int | None:
    """Claim the first row of `model` meeting `ready` for `worker`; return its id, or None when none is left.

    On PostgreSQL the row stays locked until the caller commits or rolls back;
    on SQLite the claim is already committed when this returns.
    """
    values = {"claimed_by": worker, "claimed_until": now + lease}
    if session.get_bind().dialect.name == "postgresql":
        found = session.scalar(select(model.id).where(ready, unclaimed(model, now)).order_by(order_by).limit(1)
                               .with_for_update(skip_locked=True))
        if found is not None:
            session.execute(update(model).where(model.id == found).values(**values)
                            .execution_options(synchronize_session=False))
        return found
    candidates = list(session.scalars(select(model.id).where(ready, unclaimed(model, now))
                                      .order_by(order_by).limit(20)))
    # The read ends here: SQLite cannot turn a read snapshot another writer made stale into a write.
    session.rollback()
    for candidate in candidates:
        result = session.execute(update(model).where(model.id == candidate, ready, unclaimed(model, now))
                                 .values(**values).execution_options(synchronize_session=False))
        session.commit()
        if rows_matched(result) == 1:
            return candidate
    return None


def release(session: Session, model, row_id: int) -> None:
    """Give a claimed row back to the queue at once (the work could not be done now); commit."""
    session.execute(update(model).where(model.id == row_id).values(claimed_by=None, claimed_until=None)
                    .execution_options(synchronize_session=False))
    session.commit()
