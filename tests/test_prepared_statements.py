"""On PostgreSQL, the statements every completion runs are prepared on the server and stay prepared from one
session to the next; no other statement is prepared; a transaction that wrote, or failed, still rolls back."""
from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.orm import Session

from engine.db import SERVER_PREPARED
from engine.prepared import PreparedWrite
from engine.runtime.store import READY_SIBLINGS

from conftest import postgresql_only

pytestmark = postgresql_only("statements prepared on the server")

SCRATCH = Table("rollback_check", MetaData(), Column("n", Integer))
ADD = PreparedWrite(insert(SCRATCH))
MARKED = text("SELECT CAST(:n AS integer) AS marked_for_preparing").execution_options(**SERVER_PREPARED)
UNMARKED = text("SELECT CAST(:n AS integer) AS left_unprepared")


@pytest.fixture
def scratch(db_engine):
    """An empty table of its own, dropped after the test."""
    SCRATCH.create(db_engine, checkfirst=True)
    with db_engine.begin() as connection:
        connection.execute(SCRATCH.delete())
    yield SCRATCH
    SCRATCH.drop(db_engine)
    db_engine.dispose()  # the connections' statements name the dropped table


def prepared_like(session: Session, fragment: str) -> int:
    """How many statements prepared on the session's connection contain `fragment`."""
    return session.scalar(text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE :pattern "
                               "AND statement NOT LIKE '%pg_prepared_statements%'"), {"pattern": f"%{fragment}%"})


def rows(db_engine) -> int:
    with Session(db_engine) as session:
        return session.scalar(select(SCRATCH.c.n).order_by(SCRATCH.c.n.desc()).limit(1)) or 0


def test_marked_statements_stay_prepared_across_sessions_that_only_read_and_others_are_never_prepared(db_engine):
    db_engine.dispose()  # one fresh connection in the pool, used by each session in turn
    for number in range(8):
        with Session(db_engine) as session:  # closed without commit: its transaction ends there
            assert session.scalar(MARKED, {"n": number}) == number
            assert session.scalar(UNMARKED, {"n": number}) == number
    with Session(db_engine) as session:
        assert prepared_like(session, "AS marked_for_preparing") == 1
        assert prepared_like(session, "AS left_unprepared") == 0, "psycopg's own preparation at the 5th run is off"


def test_a_completion_s_reads_and_writes_are_prepared(db_engine, scratch):
    db_engine.dispose()
    with Session(db_engine) as session:
        session.execute(READY_SIBLINGS, {"task_id": "00000000-0000-0000-0000-000000000000"}).all()
        ADD.execute(session, {"n": 1})
        session.commit()
    with Session(db_engine) as session:
        assert prepared_like(session, "FROM task JOIN process_instance") == 1
        assert prepared_like(session, "INSERT INTO rollback_check") == 1


def test_a_session_that_wrote_still_rolls_back_when_it_closes(db_engine, scratch):
    with Session(db_engine) as session:
        session.scalar(select(SCRATCH.c.n))  # a read first: the transaction began as a read
        session.execute(insert(SCRATCH), {"n": 1})
    with Session(db_engine) as session:
        session.scalar(select(SCRATCH.c.n))
        ADD.execute(session, {"n": 2})  # on the cursor itself, seen by the engine's listeners all the same
    with Session(db_engine) as session:
        session.execute(insert(SCRATCH), {"n": 3})
        session.rollback()
    assert rows(db_engine) == 0
    with Session(db_engine) as session:
        ADD.execute(session, {"n": 4})
        session.commit()
    assert rows(db_engine) == 4


def test_a_read_that_failed_rolls_back(db_engine):
    with Session(db_engine) as session:
        with pytest.raises(Exception, match="division"):
            session.execute(text("SELECT 1 / (SELECT 0)"))
        session.rollback()
        assert session.scalar(text("SELECT 2")) == 2
