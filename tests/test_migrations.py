"""The schema comes from Alembic migrations, in one line of history, and says exactly what the models say."""
from __future__ import annotations

import os
import shutil
import uuid
import warnings
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import to_tuple
from sqlalchemy import Column, create_engine, func, inspect, select, text

import engine.models  # noqa: F401 - every table on the metadata the comparison reads
from engine.db import (
    MIGRATIONS_DIR,
    Base,
    downgrade_database,
    make_session_factory,
    scratch_postgres_database,
    upgrade_database,
)

pytestmark = pytest.mark.postgres

# Revisions written before the history had to stay linear: their eight branches and the merge that joins them
# (0013_merge) are stamped in deployed databases, so they stay as they are. Every later revision follows the
# one before it.
MERGED_HISTORY = frozenset({
    "0001", "0002_directory", "0003_api", "0005_directory2", "0006_analyst", "0007_volunteer", "0008_follow_up",
    "0009_monitoring", "0010_ops", "0011_perf", "0012_oidc", "0013_merge", "0014_instance_state", "0015_dashboard",
})
# The head of the schema deployed databases have now; the revisions after it must upgrade them without loss.
LAST_MERGED = "0016_sqlite_widths"


@contextmanager
def fresh_database(tmp_path: Path):
    """URL of an empty database: SQLite, or PostgreSQL when TEST_DATABASE_URL is set (dropped afterwards)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / f'migrations-{uuid.uuid4().hex[:8]}.db'}"
        return
    with scratch_postgres_database(base, "sc_migr") as url:
        yield url


def linearity_problems(script: ScriptDirectory) -> list[str]:
    """Why the revision graph is not one line after `LAST_MERGED`, in French; empty when it is."""
    revisions = {revision.revision: revision for revision in script.walk_revisions()}
    children: dict[str, list[str]] = defaultdict(list)
    for revision in revisions.values():
        for parent in to_tuple(revision.down_revision, default=()):
            children[parent].append(revision.revision)
    problems = [f"la révision « {missing} », déjà appliquée aux bases déployées, a disparu ou changé d'identifiant : "
                "rendez-lui son identifiant (les bases déployées le portent)."
                for missing in sorted(MERGED_HISTORY - set(revisions))]
    heads = sorted(script.get_heads())
    if len(heads) > 1:
        problems.append(f"l'historique a {len(heads)} têtes ({', '.join(heads)}) au lieu d'une : rebasez votre "
                        "migration sur la tête de l'historique au lieu d'en ouvrir une branche.")
    for name in sorted(set(revisions) - MERGED_HISTORY):
        revision = revisions[name]
        parents = to_tuple(revision.down_revision, default=())
        where = f"la migration « {name} » ({Path(revision.path).name})"
        if len(parents) > 1:
            problems.append(f"{where} fusionne {', '.join(parents)} (down_revision en tuple) : les fusions sont "
                            "refusées ; rebasez votre migration sur la tête de l'historique (alembic heads), "
                            "avec un down_revision unique.")
        elif not parents:
            problems.append(f"{where} n'a pas de down_revision : elle ouvrirait un second historique ; rebasez-la "
                            "sur la tête de l'historique (alembic heads).")
        else:
            siblings = sorted(set(children[parents[0]]) - {name})
            if siblings:
                problems.append(f"{where} part de « {parents[0]} », comme {', '.join(siblings)} : cela ouvre une "
                                "branche ; rebasez votre migration sur la tête de l'historique (down_revision = la "
                                "dernière révision, celle que donne « alembic heads »).")
    return problems


def on_expressions(index) -> bool:
    """Whether an index is on an expression (`lower(login)`): SQLite's reflection does not read them."""
    return any(not isinstance(expression, Column) for expression in index.expressions)


def schema_differences(url: str) -> list:
    """What Alembic's autogenerate would change to bring the database at `url` to the models.

    Indexes on expressions are left to `expression_indexes`, which finds them by name in either database.
    """
    bind = create_engine(url)
    try:
        with bind.connect() as connection, warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
            context = MigrationContext.configure(connection, opts={
                "compare_type": True, "compare_server_default": True,
                "include_object": lambda item, _name, kind, *_rest: not (kind == "index" and on_expressions(item))})
            return compare_metadata(context, Base.metadata)
    finally:
        bind.dispose()


def expression_indexes(url: str) -> set[str]:
    """Names of the indexes of the database at `url` that the models declare on expressions."""
    declared = {index.name for table in Base.metadata.tables.values() for index in table.indexes
                if on_expressions(index)}
    catalogue = ("SELECT name FROM sqlite_master WHERE type = 'index'" if url.startswith("sqlite")
                 else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
    bind = create_engine(url)
    try:
        with bind.connect() as connection:
            return declared & set(connection.scalars(text(catalogue)))
    finally:
        bind.dispose()


def explain(differences: list, url: str) -> str:
    """The differences, one a line, and what to do about them, in French."""
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    lines = "\n".join(f"  {difference}" for difference in differences)
    return (f"Les modèles (engine/models) et les migrations ne décrivent pas le même schéma sur {dialect} :\n{lines}\n"
            "Écrivez la migration qui amène les bases déployées au modèle, ou corrigez le modèle si la migration "
            "dit vrai.")


def test_the_history_is_one_line_after_the_last_merge():
    problems = linearity_problems(ScriptDirectory(str(MIGRATIONS_DIR)))
    assert not problems, "\n".join(problems)


def test_a_branch_or_a_merge_after_the_last_merge_is_refused(tmp_path):
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    revision = "revision = {!r}\ndown_revision = {!r}\nbranch_labels = None\ndepends_on = None\n"
    (copy / "versions" / "9001_side.py").write_text(revision.format("9001_side", head), encoding="utf-8")
    (copy / "versions" / "9002_other.py").write_text(revision.format("9002_other", head), encoding="utf-8")
    problems = linearity_problems(ScriptDirectory(str(copy)))
    assert problems[0] == "l'historique a 2 têtes (9001_side, 9002_other) au lieu d'une : rebasez votre migration " \
                          "sur la tête de l'historique au lieu d'en ouvrir une branche."
    assert problems[1].startswith(f"la migration « 9001_side » (9001_side.py) part de « {head} », comme 9002_other : "
                                  "cela ouvre une branche ; rebasez votre migration sur la tête")
    (copy / "versions" / "9003_merge.py").write_text(revision.format("9003_merge", ("9001_side", "9002_other")),
                                                      encoding="utf-8")
    problems = linearity_problems(ScriptDirectory(str(copy)))
    assert "la migration « 9003_merge » (9003_merge.py) fusionne 9001_side, 9002_other (down_revision en tuple) : " \
           "les fusions sont refusées ; rebasez votre migration sur la tête de l'historique (alembic heads), avec " \
           "un down_revision unique." in problems


def test_a_database_migrated_from_empty_has_exactly_the_models_schema(tmp_path):
    with fresh_database(tmp_path) as url:
        upgrade_database(url)
        differences = schema_differences(url)
        assert differences == [], explain(differences, url)
        declared = {index.name for index in Base.metadata.tables["person"].indexes}
        assert {"ix_person_login_lower", "ix_person_email_lower"} <= declared
        assert expression_indexes(url) == {"ix_person_login_lower", "ix_person_email_lower"}


def test_upgrade_from_empty_downgrades_to_empty(tmp_path):
    with fresh_database(tmp_path) as url:
        upgrade_database(url)
        bind = create_engine(url)
        assert set(inspect(bind).get_table_names()) - {"alembic_version"} == set(Base.metadata.tables)
        bind.dispose()
        downgrade_database(url)
        bind = create_engine(url)
        assert set(inspect(bind).get_table_names()) <= {"alembic_version"}
        bind.dispose()


def demo_database_with_a_project(url: str, tmp_path: Path) -> tuple[int, int]:
    """Bring the database at `url` to head with the demo directory and a hosting project of Rennes, written by
    today's code; return the project's and its school's ids."""
    from engine.demo.directory import load_demo_data
    from engine.models import Establishment
    from engine.runtime.deployment import deploy, read_definition_files
    from engine.runtime.runtime import ProcessRuntime, RuntimeSettings

    from conftest import ROOT, principal_of

    upgrade_database(url)
    bind = create_engine(url)
    with make_session_factory(bind)() as session:
        deploy(session, read_definition_files(ROOT / "processes", ROOT / "forms"), actor="tests")
        load_demo_data(session)
        runtime = ProcessRuntime(session, RuntimeSettings(tmp_path / "documents"),
                                 clock=lambda: datetime(2027, 3, 15, 10, 0))
        rennes = session.scalar(select(Establishment).where(Establishment.uai == "0350781J"))
        project = runtime.start("hosting_project", principal_of(session, "referent.rennes"), establishment=rennes,
                                campaign="2027-2028")
        ids = project.id, rennes.id
    bind.dispose()
    return ids


def test_a_demo_database_of_the_last_merge_upgrades_without_losing_a_row(tmp_path):
    with fresh_database(tmp_path) as url:
        # The rows are written by today's code, then the schema is taken back to the last merge: what a deployed
        # database holds before its upgrade.
        demo_database_with_a_project(url, tmp_path)
        downgrade_database(url, LAST_MERGED)
        bind = create_engine(url)
        existing = set(inspect(bind).get_table_names())
        with bind.connect() as connection:
            before = {table.name: connection.scalar(select(func.count()).select_from(table))
                      for table in Base.metadata.sorted_tables if table.name in existing}
        bind.dispose()
        assert before["person"] and before["establishment"] and before["task"]

        upgrade_database(url)

        bind = create_engine(url)
        with bind.connect() as connection:
            after = {table.name: connection.scalar(select(func.count()).select_from(table))
                     for table in Base.metadata.sorted_tables if table.name in before}
            if bind.dialect.name == "sqlite":
                assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        bind.dispose()
        assert after == before
        differences = schema_differences(url)
        assert differences == [], explain(differences, url)


def test_a_delta_log_goes_down_to_its_column_and_up_to_change_rows_as_the_same_state(tmp_path):
    from engine.models import ProcessInstance, TaskRow
    from engine.runtime.runtime import ProcessRuntime, RuntimeSettings
    from engine.runtime.store import write_state

    from conftest import principal_of
    from test_processes import sample

    with fresh_database(tmp_path) as url:
        project_id, _school = demo_database_with_a_project(url, tmp_path)
        bind = create_engine(url)
        with make_session_factory(bind)() as session:
            runtime = ProcessRuntime(session, RuntimeSettings(tmp_path / "documents"),
                                     clock=lambda: datetime(2027, 3, 16, 10, 0))
            task_id = session.scalar(select(TaskRow.id).where(TaskRow.instance_id == project_id,
                                                              TaskRow.state == "ready"))
            runtime.complete(task_id, principal_of(session, "referent.rennes"), sample("design_project"))
        with make_session_factory(bind)() as session:
            merged = session.get(ProcessInstance, project_id).state
            assert session.get(ProcessInstance, project_id).engine_state.delta, "the completion appended a line"
        bind.dispose()

        downgrade_database(url, "0027_list_orders")
        bind = create_engine(url)
        with bind.connect() as connection:
            full, delta = connection.exec_driver_sql(
                f"SELECT state, delta FROM instance_state WHERE instance_id = {project_id}").one()
        bind.dispose()
        assert delta.count("\n") == 1

        upgrade_database(url)
        bind = create_engine(url)
        with make_session_factory(bind)() as session:
            stored = session.get(ProcessInstance, project_id).engine_state
            assert (stored.state, stored.delta) == (full, delta)
            assert session.get(ProcessInstance, project_id).state == merged
            # The migrated database folds the log on a full write, as a new one does (the same text, even).
            write_state(session, session.get(ProcessInstance, project_id), full)
            session.commit()
            session.expire_all()
            assert session.get(ProcessInstance, project_id).engine_state.delta == ""
        bind.dispose()
