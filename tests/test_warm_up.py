"""A web worker readied at start: the deployment parsed, forms, scripts and the requests' reads compiled, nothing
written."""
import logging

from sqlalchemy import event, func, select
from sqlalchemy.engine.default import CACHE_HIT, CACHE_MISS

from engine import form_checks
from engine.db import Base, make_engine, make_session_factory
from engine.models import AuditEvent, ProcessInstance
from engine.runtime.scripting import compile_expression, compile_script
from engine.runtime.store import InstanceStore
from engine.runtime.warm_up import REQUEST_READS, warm_up
from webapp import create_app, worker_start


def _cache_outcomes(engine) -> list:
    """Whether each SELECT the engine runs from now on found its compiled SQL in the engine's cache."""
    outcomes = []

    @event.listens_for(engine, "after_cursor_execute")
    def seen(_connection, _cursor, statement, _parameters, context, _many):
        if statement.lstrip().upper().startswith("SELECT"):
            outcomes.append(context.cache_hit)

    return outcomes


def test_a_warmed_up_worker_compiles_nothing_for_a_requests_reads(sessions, database_url):
    # A new engine stands for a new worker: its SQL cache is empty.
    engine = make_engine(database_url)
    try:
        fresh = make_session_factory(engine)
        warmed = warm_up(fresh)
        assert warmed is not None and warmed.statements == len(REQUEST_READS)
        outcomes = _cache_outcomes(engine)
        with fresh() as session:
            InstanceStore(session, lambda: None).ready_siblings("tâche-inconnue")
        assert outcomes == [CACHE_HIT]
    finally:
        engine.dispose()


def test_without_warm_up_the_first_read_is_compiled(sessions, database_url):
    # The check above can fail: the same read on a worker that did not warm up is compiled at its first run.
    engine = make_engine(database_url)
    try:
        outcomes = _cache_outcomes(engine)
        with make_session_factory(engine)() as session:
            InstanceStore(session, lambda: None).ready_siblings("tâche-inconnue")
        assert outcomes == [CACHE_MISS]
    finally:
        engine.dispose()


def test_warm_up_compiles_the_scripts_and_conditions_of_the_processes(sessions):
    compile_script.cache_clear()
    compile_expression.cache_clear()
    warmed = warm_up(sessions)
    compiled = compile_script.cache_info().currsize + compile_expression.cache_info().currsize
    assert warmed.scripts > 0 and compiled > 0
    assert warmed.forms > 5


def test_warm_up_compiles_the_forms_checks(sessions, monkeypatch):
    monkeypatch.setattr(form_checks, "_COMPILED", {})
    warmed = warm_up(sessions)
    compiled = [check for check in form_checks._COMPILED.values()
                if check is not form_checks._SEEN_ONCE and check is not form_checks._NOT_COMPILED]
    # Several user tasks may share a form: at least as many checks as distinct forms, all compiled.
    assert len(compiled) > 5 and len(compiled) <= warmed.forms


def test_warm_up_writes_nothing(sessions):
    with sessions() as session:
        before = (session.scalar(select(func.count()).select_from(ProcessInstance)),
                  session.scalar(select(func.count()).select_from(AuditEvent)))
    statements = []
    engine = sessions.kw["bind"]

    def seen(_connection, _cursor, statement, *_rest):
        statements.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", seen)
    try:
        warm_up(sessions)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements and set(statements) == {"SELECT"}
    with sessions() as session:
        assert (session.scalar(select(func.count()).select_from(ProcessInstance)),
                session.scalar(select(func.count()).select_from(AuditEvent))) == before


def test_nothing_deployed_nothing_to_warm_up(db_engine):
    with db_engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    assert warm_up(make_session_factory(db_engine)) is None


def test_a_worker_compiles_its_page_templates_then_settles_its_collector(app, monkeypatch, caplog):
    settled = []
    monkeypatch.setattr(worker_start, "settle_collector", lambda: settled.append(True))
    app.jinja_env.cache.clear()
    with caplog.at_level(logging.INFO, logger="webapp.worker_start"):
        worker_start.ready_worker(app)
    compiled = {name for _loader, name in app.jinja_env.cache.keys()}
    assert {"base.html", "inbox/home.html", "tasks/task.html"} <= compiled
    assert settled == [True]
    assert "Worker prêt en" in caplog.text and "gabarits de pages" in caplog.text


def test_a_worker_whose_warm_up_fails_still_starts(tmp_path, monkeypatch, caplog):
    settled = []
    monkeypatch.setattr(worker_start, "settle_collector", lambda: settled.append(True))
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'absent' / 'base.db'}",
                      "STORAGE_DIR": tmp_path / "documents", "SECRET_KEY": "test"})
    try:
        with caplog.at_level(logging.WARNING, logger="webapp.worker_start"):
            worker_start.ready_worker(app)
    finally:
        app.extensions["db_engine"].dispose()
    assert "Préparation du worker impossible" in caplog.text
    # The collector is settled all the same: the worker serves as it would have without the warm-up.
    assert settled == [True]
