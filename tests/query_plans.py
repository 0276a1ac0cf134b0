"""The database's plans for statements, to check that an index serves them on SQLite and on PostgreSQL."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session


def plan_of(session: Session, statement, params: dict) -> str:
    """The plan of `statement` with `params`, in one line; the session's transaction is rolled back."""
    (plan,) = plans_of_statements_run_by(session, lambda: session.execute(statement, params))
    return plan


def plans_of_statements_run_by(session: Session, action: Callable[[], object]) -> list[str]:
    """The plans of the statements `action` runs in the session, each in one line, in order; then rolled back."""
    ran: list[tuple[str, object]] = []

    def seen(_connection, _cursor, statement, parameters, _context, _executemany) -> None:
        ran.append((statement, parameters))

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", seen)
    try:
        action()
    finally:
        event.remove(bind, "before_cursor_execute", seen)
    return plans(session, ran)


def plans(session: Session, statements: list[tuple[str, object]]) -> list[str]:
    """The plans of SQL texts with their parameters as the driver takes them; the transaction is rolled back.

    PostgreSQL's planner reads a small table whole whenever it may: sequential scans are disabled for the plans,
    so that they show whether an index can serve each statement at all.
    """
    connection = session.connection()
    try:
        if connection.dialect.name == "sqlite":
            return [" ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
                    for sql, params in statements]
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        return [" ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}", params))
                for sql, params in statements]
    finally:
        session.rollback()
