"""Pooled PostgreSQL connections are pinged before use only after a spell idle in the pool."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from engine import db

from conftest import postgresql_only

pytestmark = postgresql_only("SQLite has no server to lose")


@pytest.fixture
def pings(db_engine, monkeypatch):
    """The pings the test engine sends, counted."""
    sent = []
    original = db_engine.dialect.do_ping

    def counted(dbapi_connection):
        sent.append(dbapi_connection)
        return original(dbapi_connection)

    monkeypatch.setattr(db_engine.dialect, "do_ping", counted)
    return sent


def backend_pid(engine) -> int:
    """The server process of the connection the pool hands out now."""
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_just_given_back_is_used_without_a_ping(db_engine, pings, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600)
    first = backend_pid(db_engine)
    assert backend_pid(db_engine) == first
    assert pings == []


def test_a_connection_idle_in_the_pool_is_pinged_and_replaced_when_its_server_process_is_gone(
        db_engine, pings, monkeypatch):
    db_engine.dispose()
    with db_engine.connect() as other:
        first = backend_pid(db_engine)  # a second connection, given back first: the next one handed out
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        other.commit()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0)
    with db_engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != first
    assert len(pings) == 1
