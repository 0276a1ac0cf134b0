"""On PostgreSQL, a transaction that only read ends by a COMMIT, so that psycopg keeps the statements it prepared;
one that wrote still rolls back, whatever wrote it."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text
from sqlalchemy.orm import Session

from engine.prepared import PreparedWrite

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                                reason="PostgreSQL only: psycopg's prepared statements")

SCRATCH = Table("rollback_check", MetaData(), Column("n", Integer))
ADD = PreparedWrite(insert(SCRATCH))


@pytest.fixture
def scratch(db_engine):
    """An empty table of its own, dropped after the test."""
    SCRATCH.create(db_engine, checkfirst=True)
    with db_engine.begin() as connection:
        connection.execute(SCRATCH.delete())
    yield SCRATCH
    SCRATCH.drop(db_engine)


def rows(db_engine) -> int:
    with Session(db_engine) as session:
        return session.scalar(select(SCRATCH.c.n).order_by(SCRATCH.c.n.desc()).limit(1)) or 0


def test_sessions_that_only_read_keep_the_statements_prepared_on_their_connection(db_engine):
    db_engine.dispose()
    for number in range(8):
        with Session(db_engine) as session:  # closed without commit: its transaction ends there
            assert session.scalar(text("SELECT CAST(:n AS integer) AS kept_prepared"), {"n": number}) == number
    with Session(db_engine) as session:
        prepared = session.scalar(text("SELECT count(*) FROM pg_prepared_statements "
                                       "WHERE statement LIKE '%AS kept_prepared%'"))
    assert prepared == 1, "the statement, run eight times on the pool's one connection, is prepared there"


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
