"""Health of a node: the database answers, its schema is at the code's migration heads, workers beat."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.db import MIGRATIONS_DIR
from engine.ops.heartbeat import heartbeat_ages


@lru_cache(maxsize=1)
def code_heads() -> tuple[str, ...]:
    """Migration heads of the code (read once: they change only with a new release)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def health_report(engine: Engine, required_workers: int = 0, max_age: float = 300,
                  now: datetime | None = None) -> dict:
    """Check the database, the migrations and the workers' heartbeats; `ok` is true when all pass.

    Workers are judged only when `required_workers` is above zero: that many must have beaten
    within `max_age` seconds. Their ages are reported either way.
    """
    report: dict = {"database": {"ok": False}, "migrations": {"ok": False, "code": list(code_heads())},
                    "workers": {"ok": required_workers == 0, "required": required_workers,
                                "max_age_seconds": max_age}}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            report["database"]["ok"] = True
            current = _database_heads(connection)
            report["migrations"].update({"database": current, "ok": current == list(code_heads())})
            ages = _heartbeat_ages(connection, now) if report["migrations"]["ok"] else {}
    except SQLAlchemyError as error:
        # The class, not the message: a connection error may quote the server's address and user.
        report["database"]["error"] = type(error).__name__
        report["ok"] = False
        return report
    fresh = sum(1 for age in ages.values() if age <= max_age)
    report["workers"].update({"fresh": fresh, "ages": {name: round(age, 1) for name, age in sorted(ages.items())}})
    if required_workers:
        report["workers"]["ok"] = fresh >= required_workers
    report["ok"] = all(report[part]["ok"] for part in ("database", "migrations", "workers"))
    return report


def _database_heads(connection) -> list[str]:
    # Read directly rather than through Alembic's MigrationContext, which logs two lines per call.
    try:
        return sorted(connection.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError:
        connection.rollback()  # a database never migrated has no such table
        return []


def _heartbeat_ages(connection, now: datetime | None) -> dict[str, float]:
    with Session(bind=connection) as session:
        return heartbeat_ages(session, now)
