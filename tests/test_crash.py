"""A server killed (SIGKILL) while completions are in flight loses nothing and duplicates nothing.

gunicorn runs with the project's config against the test database (a SQLite
file, or PostgreSQL with TEST_DATABASE_URL). Threads complete a batch of tasks
through the API; once a few have gone through, the master and its workers are
killed at once. After a restart every task is either completed once, with
exactly one audit event, or still ready; every instance deserialises; the task
table matches the engine; and the restarted server goes on completing tasks.
"""
from __future__ import annotations

import queue
import threading
import time
from datetime import datetime
from http.client import HTTPException

import pytest
from sqlalchemy import func, select

from engine.directory.tokens import issue_token
from engine.models import AuditEvent, Establishment, Person, TaskRow
from engine.ops.consistency import check_consistency

from conftest import SAMPLES, principal_of
from live_server import Gunicorn, http
from test_concurrency_branches import ACTORS, opinions, start_opinions  # noqa: F401 - `opinions` is a fixture

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SCHOOLS = {"0350781J": "referent.rennes", "0291652N": "referent.brest", "0754025T": "referent.paris"}
CLIENT_THREADS = 6
KILL_AFTER = 5
WAIT_LIMIT = 60


@pytest.fixture
def batch(opinions, runtime, session):
    """Two dozen ready tasks: hosting projects to design, and both branches of parallel opinions."""
    jobs = []
    for campaign in ("2024-2025", "2025-2026", "2026-2027", "2027-2028"):
        for uai, login in SCHOOLS.items():
            establishment = session.scalar(select(Establishment).where(Establishment.uai == uai))
            instance = runtime.start("hosting_project", principal_of(session, login), establishment=establishment,
                                     campaign=campaign)
            task = session.scalar(select(TaskRow).where(TaskRow.instance_id == instance.id))
            jobs.append((task.id, login, SAMPLES["design_project"]))
    for _ in range(6):
        instance, tasks = start_opinions(runtime, session)
        jobs.extend((row.id, ACTORS[spec], {"opinion": f"avis {spec} {instance.id}"}) for spec, row in tasks.items())
    session.commit()
    return jobs


def bearer_tokens(session, logins) -> dict[str, str]:
    now = datetime.now()
    return {login: issue_token(session, session.scalar(select(Person).where(Person.login == login)), now)[0]
            for login in set(logins)}


def fire(url: str, jobs, tokens, outcomes: dict) -> list[threading.Thread]:
    """Complete every job from several threads; record each answer ("lost" when the server went away)."""
    pending: queue.Queue = queue.Queue()
    for job in jobs:
        pending.put(job)

    def client() -> None:
        while True:
            try:
                task_id, login, data = pending.get_nowait()
            except queue.Empty:
                return
            try:
                status, _body = http("POST", f"{url}/api/v1/tasks/{task_id}/complete", data,
                                     {"Authorization": f"Bearer {tokens[login]}"})
                outcomes[task_id] = status
            except (OSError, HTTPException):
                # Refused, reset, or cut off between the answer's headers and its body: the server was killed.
                outcomes[task_id] = "lost"

    threads = [threading.Thread(target=client) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    return threads


def test_server_killed_mid_batch_loses_and_duplicates_nothing(batch, session, database_url, tmp_path):
    tokens = bearer_tokens(session, [login for _task, login, _data in batch])
    server = Gunicorn(tmp_path / "gunicorn.log", {
        "DATABASE_URL": database_url, "STORAGE_DIR": str(tmp_path / "documents"), "SECRET_KEY": "crash-test"})
    server.start()
    outcomes: dict[str, object] = {}
    try:
        threads = fire(server.url, batch, tokens, outcomes)
        deadline = time.monotonic() + WAIT_LIMIT
        while sum(1 for status in list(outcomes.values()) if status == 200) < KILL_AFTER:
            assert time.monotonic() < deadline, f"trop lent avant l'arrêt brutal : {outcomes}\n{server.log()}"
            time.sleep(0.01)
        server.kill()
        for thread in threads:
            thread.join(timeout=WAIT_LIMIT)
        unexpected = {task: status for task, status in outcomes.items() if status not in (200, 409, "lost")}
        assert not unexpected, f"{unexpected}\n{server.log()}"

        session.expire_all()
        rows = {row.id: row for row in session.scalars(select(TaskRow).where(TaskRow.id.in_(
            [task_id for task_id, _login, _data in batch])))}
        events = dict(session.execute(
            select(AuditEvent.task_id, func.count()).where(AuditEvent.kind == "completed")
            .group_by(AuditEvent.task_id)).all())
        for task_id, _login, _data in batch:
            state, count = rows[task_id].state, events.get(task_id, 0)
            assert (state, count) in (("completed", 1), ("ready", 0)), (task_id, state, count, outcomes.get(task_id))
            if outcomes.get(task_id) == 200:
                assert state == "completed", "an answered completion was committed"
        states = [rows[task_id].state for task_id, _login, _data in batch]
        assert states.count("completed") >= KILL_AFTER and "ready" in states, "the kill came in mid-batch"
        report = check_consistency(session)
        assert report.ok, [str(problem) for problem in report.problems]

        server.start()
        task_id, login, data = next(job for job in batch if rows[job[0]].state == "ready")
        status, body = http("POST", f"{server.url}/api/v1/tasks/{task_id}/complete", data,
                            {"Authorization": f"Bearer {tokens[login]}"})
        assert status == 200, body
    finally:
        server.stop()
    session.expire_all()
    assert check_consistency(session).ok
