"""Write statements compiled once per database and run on the session's own DBAPI cursor.

Every completion writes the same few rows (the instance's row, its state's changes, its task rows, its audit
event, a message): through `Session.execute`, SQLAlchemy builds an execution context, looks the statement up in
its cache, wraps the cursor in a result, for each of them. A `PreparedWrite` keeps the SQL text and the bind
processors of its statement for each database (and set of columns given) and hands them to the cursor itself,
in the session's transaction.

What stays as with `Session.execute`: the engine's `before_cursor_execute` and `after_cursor_execute` listeners
see each statement (tests and benchmarks count them with these), and a database error is raised as SQLAlchemy's
(`IntegrityError`, `OperationalError`...). What differs: no autoflush (the session's pending objects are written
by its next flush or commit, as they are under `no_autoflush`), and no result: `execute` returns the number of
rows matched. Statements with expanding parameters (`IN` lists) are not supported.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.schema import ScalarElementColumnDefault


@dataclass(frozen=True)
class _Compiled:
    """A statement compiled for one database, and how to turn given values into the cursor's parameters."""

    compiled: SQLCompiler
    # The bound names in the order of the SQL's placeholders (positional style), or None (named style).
    positions: tuple[str, ...] | None
    processors: Mapping[str, Callable[[Any], Any]]
    # Names as the SQL spells them, by bound name (named style only; usually the same).
    escaped: Mapping[str, str]
    # The columns' Python-side scalar defaults (`default=0`) that the SQL binds when no value is given.
    defaults: Mapping[str, Any]

    def parameters(self, values: dict) -> Sequence[Any] | dict[str, Any]:
        bound = self.compiled.construct_params({**self.defaults, **values} if self.defaults else values,
                                               escape_names=False, _check=False)
        processors = self.processors
        if self.positions is not None:
            return tuple(processors[name](bound[name]) if name in processors else bound[name] for name in self.positions)
        return {self.escaped.get(name, name): processors[name](value) if name in processors else value
                for name, value in bound.items()}


class PreparedWrite:
    """An INSERT, UPDATE or DELETE run on the session's DBAPI cursor (see the module's docstring)."""

    def __init__(self, statement: UpdateBase):
        self.statement = statement
        self._compiled: dict[tuple[str, frozenset[str]], _Compiled] = {}

    def execute(self, session: Session, values: dict | list[dict]) -> int:
        """Run the statement with `values` (a list: once per item) in the session's transaction; rows matched.

        A list of one item runs as a single execution, not as a batch of one.
        """
        connection = session.connection()
        if isinstance(values, list) and len(values) == 1:
            values = values[0]
        if isinstance(values, list):
            prepared = self._for(connection, values[0])
            return _run(connection, prepared.compiled.string, [prepared.parameters(item) for item in values], True)
        prepared = self._for(connection, values)
        return _run(connection, prepared.compiled.string, prepared.parameters(values), False)

    def _for(self, connection: Connection, values: dict) -> _Compiled:
        dialect = connection.dialect
        key = (dialect.name, frozenset(values))
        found = self._compiled.get(key)
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=sorted(values))
            positions = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
            escaped = dict(compiled.escaped_bind_names) if compiled.escaped_bind_names else {}

            generators = [(column.key, column.default) for column in compiled.insert_prefetch]
            generators += [(column.key, column.onupdate) for column in compiled.update_prefetch]
            defaults = {}
            for name, generator in generators:
                if name in values:
                    continue
                if not isinstance(generator, ScalarElementColumnDefault):
                    raise NotImplementedError(f"Valeur par défaut calculée en Python ({name}) : {self.statement}")
                defaults[name] = generator.arg
            # A processor per value (no tuple-valued parameters here): callables, by bound name.
            processors = cast(Mapping[str, Callable[[Any], Any]], compiled._bind_processors)
            found = _Compiled(compiled, positions, dict(processors), escaped, defaults)
            self._compiled[key] = found
        return found


def _run(connection: Connection, sql: str, parameters: Any, many: bool) -> int:
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None, "la connexion de la session est fermée"
    dialect = connection.dialect
    listened = connection._has_events or connection.engine._has_events
    cursor = dbapi_connection.cursor()
    try:
        if listened:
            connection.dispatch.before_cursor_execute(connection, cursor, sql, parameters, None, many)
        try:
            if many:
                cursor.executemany(sql, parameters)
            elif dialect.driver == "psycopg":
                # Prepared on the server, planned once per connection (see `engine.db.SERVER_PREPARED`).
                cast(Any, cursor).execute(sql, parameters, prepare=True)  # psycopg's own keyword
            else:
                cursor.execute(sql, parameters)
        except dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(sql, parameters, error, dialect.loaded_dbapi.Error,
                                      dialect=dialect) from error
        if listened:
            connection.dispatch.after_cursor_execute(connection, cursor, sql, parameters, None, many)
        return cursor.rowcount
    finally:
        cursor.close()
