"""Database engine, sessions and schema migrations."""
from __future__ import annotations

import os
import time
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from sqlalchemy import Table, create_engine, event, text
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import instance_dict, manager_of_class

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    """Declarative base of every persisted model."""

    if TYPE_CHECKING:
        # Every model is mapped to a Table (DeclarativeBase allows any FromClause), which insert, update and
        # delete statements take.
        __table__: ClassVar[Table]


# Every engine of the process, so that a forked child (gunicorn with preload_app, multiprocessing)
# drops the connections it inherited instead of sharing their sockets with its parent.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def make_engine(url: str) -> Engine:
    """Create an engine for `url`, with SQLite tuned for concurrent readers; safe across fork."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
    else:
        # A bounded connect: a health check or a request must fail, not hang, when the server is gone.
        engine = create_engine(url, connect_args={"connect_timeout": 10})
        _ping_when_idle(engine)
        if engine.dialect.driver == "psycopg":
            _prepare_when_asked(engine)
            _end_reads_by_commit(engine)
    _ENGINES.add(engine)
    return engine


# A pooled connection given back less than this long ago has just answered: it is used without a ping.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection with a round trip before use, but only when it stayed idle in the pool.

    `pool_pre_ping` pings at every checkout, which costs one round trip per request even when the connection
    served another one a millisecond ago. A server restarted or a connection dropped by a proxy during a quiet
    spell is still caught before use; one that breaks within a second of its last use fails its request, and
    SQLAlchemy then replaces every connection of the pool.
    """
    def returned(_dbapi_connection, record) -> None:
        record.info["returned_at"] = time.monotonic()

    def checked_out(dbapi_connection, record, _proxy) -> None:
        returned_at = record.info.get("returned_at")  # none for a connection just opened
        if returned_at is None or time.monotonic() - returned_at < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool discards the connection and checks out another one.
            raise DisconnectionError(str(error)) from error

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", checked_out)


# Execution option of the statements every completion or page runs, looked up by key (a task, an instance's state,
# an API token, a web session): on PostgreSQL they are prepared on the server, planned once per connection instead
# of at each execution (about 1 ms for the ready tasks read with their instance, campaign and state).
# `engine.prepared.PreparedWrite` prepares its writes the same way.
SERVER_PREPARED = {"server_prepared": True}


def _prepare_when_asked(engine: Engine) -> None:
    """Run the statements carrying `SERVER_PREPARED` as prepared statements of the server, and no other.

    Any other statement with parameters keeps a plan made for its own values: psycopg would prepare it at its
    fifth execution on a connection, after which PostgreSQL may take a plan made once for any value, which made
    the dossier lists 40 to 50 % slower.
    """
    import psycopg

    @event.listens_for(engine, "do_execute")
    def execute(cursor, statement: str, parameters, context) -> bool:
        if isinstance(cursor, psycopg.ServerCursor):
            return False  # results streamed by a cursor of the server, never prepared: the dialect's own execution
        cursor.execute(statement, parameters, prepare=bool(context.execution_options.get("server_prepared")))
        return True


def _end_reads_by_commit(engine: Engine) -> None:
    """End a transaction that only read by a COMMIT instead of a ROLLBACK, which it is the same as.

    psycopg forgets every statement it prepared on a connection at each ROLLBACK (a rolled-back transaction may
    have dropped what they refer to), and has the server drop them: one more round trip, and the statements of
    the next transactions planned again. Every session that only read ends by a rollback when it closes (most
    requests: pages, the token read before a completion), so the prepared statements would not last from one
    request to the next. A transaction that ran anything but SELECT statements, or failed, still rolls back.
    """
    import psycopg

    @event.listens_for(engine, "begin")
    def began(connection) -> None:
        connection.info["wrote"] = False

    @event.listens_for(engine, "before_cursor_execute")
    def executing(connection, _cursor, statement: str, _parameters, _context, _executemany) -> None:
        if not connection.info.get("wrote", True) and not _reads_only(statement):
            connection.info["wrote"] = True

    @event.listens_for(engine, "rollback")
    def rolling_back(connection) -> None:
        if connection.info.get("wrote", True):
            return
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection.info.transaction_status != psycopg.pq.TransactionStatus.INTRANS:
            return  # failed, or nothing begun: the rollback proceeds
        try:
            # The rollback that follows then finds no transaction and sends nothing.
            dbapi_connection.commit()
        except psycopg.Error:
            pass  # the rollback that follows meets the same broken connection and reports it


def _reads_only(statement: str) -> bool:
    """Whether an SQL statement is a plain SELECT (as SQLAlchemy and the engine write them: no leading comment)."""
    return statement.lstrip()[:6].upper() == "SELECT"


# Pools a forked child inherited: kept referenced, because collecting their connections would warn
# (psycopg: "deleted while still open") and closing them would end the parent's sessions on the server.
_INHERITED_POOLS: list = []


def forget_inherited_connections() -> None:
    """In a forked child, give every engine a fresh pool without closing the parent's connections."""
    for engine in list(_ENGINES):
        _INHERITED_POOLS.append(engine.pool)
        engine.dispose(close=False)


os.register_at_fork(after_in_child=forget_inherited_connections)


def _configure_sqlite(dbapi_connection, _record) -> None:
    # WAL lets the inbox read while a completion writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def rows_matched(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched."""
    # Session.execute is typed to give a Result, but for these statements it is a CursorResult.
    return cast(CursorResult[Any], result).rowcount


Row = TypeVar("Row")


def attach_as_read(session: Session, model: type[Row], values: dict[str, Any]) -> Row:
    """The object of a row just written with `values` by a plain statement, in the session as if read back.

    A plain INSERT costs a fraction of the unit of work's; the object is then built without the ORM's attribute
    events (nothing to track: the row is written) and marked as loaded, so that nothing is left to flush for it.
    Columns missing from `values` load on first access.
    """
    row = manager_of_class(model).new_instance()
    instance_dict(row).update(values)
    make_transient_to_detached(row)
    session.add(row)
    return row


def make_session_factory(engine: Engine) -> sessionmaker:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str):
    """Build an Alembic configuration pointing at the bundled migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "heads") -> None:
    """Bring the schema of the database at `url` to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade_database(url: str, revision: str = "base") -> None:
    """Take the schema of the database at `url` back to `revision`."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


@contextmanager
def scratch_postgres_database(server_url: str, prefix: str = "sc_scratch") -> Iterator[str]:
    """URL of a new, empty PostgreSQL database on the server of `server_url`, dropped when the block ends.

    Tests and benchmarks use it to work on a database of their own beside any other run.
    """
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
