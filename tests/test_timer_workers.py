"""Timers fire exactly once however many workers run, and a worker dying mid-way leaves nothing half done."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from engine.models import AuditEvent, Notification, TaskRow, Timer
from engine.runtime.store import InstanceStore
from webapp.config import settings_of

from follow_up_support import run_worker, to_follow_up
from test_processes import ready

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


FIRST_MONTH = datetime(2027, 11, 1, 10, 0)
HERE = Path(__file__).resolve().parent


def worker_process(database_url: str, tmp_path: Path, name: str, when: datetime, mode: str = "") -> subprocess.Popen:
    """A worker process, started and waiting for its go."""
    return subprocess.Popen(
        [sys.executable, str(HERE / "worker_process.py"), database_url, str(tmp_path / "documents"), name,
         when.isoformat(), str(tmp_path / "mails"), mode],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE.parent,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)})


def fired_timers(session, instance_id: int) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.instance_id == instance_id, AuditEvent.kind == "timer"))


def test_two_worker_processes_fire_each_timer_once(runtime, session, database_url, tmp_path):
    instances = [to_follow_up(runtime, session, first_name=name) for name in ("Léa", "Hugo", "Inès", "Noé", "Zoé")]
    (tmp_path / "mails").mkdir()
    workers = [worker_process(database_url, tmp_path, f"worker-{n}", FIRST_MONTH) for n in (1, 2)]
    for worker in workers:
        worker.stdin.write("go\n")
        worker.stdin.flush()
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        reports.append(json.loads(out))
    session.expire_all()

    assert sum(r["timers_fired"] for r in reports) == len(instances)
    for instance in instances:
        assert fired_timers(session, instance.id) == 1
        assert [t.spec_id for t in ready(session, instance.id)] == ["record_follow_up"]
    announced = session.scalar(select(func.count()).select_from(Notification)
                               .where(Notification.subject.like("Nouvelle tâche%")))
    assert announced == 4 * len(instances), "tuteur, two cotuteurs and référent, once each per task"
    sent = session.scalar(select(func.count()).select_from(Notification).where(Notification.sent_at.is_not(None)))
    assert sum(r["messages_sent"] for r in reports) == sent == len(list((tmp_path / "mails").glob("*.eml")))


def test_a_failure_while_firing_leaves_nothing_half_done(runtime, session, sessions, tmp_path, monkeypatch):
    followed = to_follow_up(runtime, session)

    def crash(*_args, **_kwargs):
        raise RuntimeError("arrêt brutal pendant l'écriture")

    monkeypatch.setattr(InstanceStore, "save", crash)
    report = run_worker(sessions, tmp_path, FIRST_MONTH, session)
    assert (report.timers_fired, report.timers_failed) == (0, 1)
    monkeypatch.undo()
    assert ready(session, followed.id) == [] and fired_timers(session, followed.id) == 0
    assert session.scalars(select(Timer.due_at).where(Timer.spec_id == "monthly_follow_up")).all() == [
        datetime(2027, 11, 1, 9, 0)]
    assert run_worker(sessions, tmp_path, FIRST_MONTH + timedelta(minutes=1), session).timers_fired == 0, (
        "a failing timer waits out its lease instead of failing again at once")
    assert run_worker(sessions, tmp_path, FIRST_MONTH + timedelta(minutes=6), session).timers_fired == 1
    assert [t.spec_id for t in ready(session, followed.id)] == ["record_follow_up"]


def test_a_timer_whose_database_failed_is_tried_again_within_seconds(runtime, session, sessions, tmp_path,
                                                                    monkeypatch):
    followed = to_follow_up(runtime, session)

    def connection_cut(*_args, **_kwargs):
        raise OperationalError("UPDATE process_instance …", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(InstanceStore, "save", connection_cut)
    assert run_worker(sessions, tmp_path, FIRST_MONTH, session).timers_failed == 1
    monkeypatch.undo()
    (timer,) = session.scalars(select(Timer).where(Timer.spec_id == "monthly_follow_up"))
    assert timer.claimed_by is None and timer.claimed_until <= FIRST_MONTH + timedelta(seconds=5)
    assert ready(session, followed.id) == [] and fired_timers(session, followed.id) == 0
    assert run_worker(sessions, tmp_path, FIRST_MONTH + timedelta(seconds=10), session).timers_fired == 1
    assert [t.spec_id for t in ready(session, followed.id)] == ["record_follow_up"]


def test_a_worker_killed_while_firing_leaves_the_timer_to_another(runtime, session, sessions, database_url, tmp_path):
    followed = to_follow_up(runtime, session)
    (tmp_path / "mails").mkdir()
    doomed = worker_process(database_url, tmp_path, "doomed", FIRST_MONTH, "hang")
    doomed.stdin.write("go\n")
    doomed.stdin.flush()
    marker = tmp_path / "mails" / "doomed.hanging"
    deadline = time.monotonic() + 60
    while not marker.exists() and doomed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), doomed.stderr.read() if doomed.poll() is not None else "le travailleur n'a rien tiré"
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.communicate()
    session.expire_all()
    assert ready(session, followed.id) == [] and fired_timers(session, followed.id) == 0
    assert session.scalar(select(func.count()).select_from(TaskRow).where(TaskRow.spec_id == "record_follow_up")) == 0

    report = run_worker(sessions, tmp_path, FIRST_MONTH + timedelta(minutes=6), session)
    assert report.timers_fired == 1
    assert [t.spec_id for t in ready(session, followed.id)] == ["record_follow_up"]
    assert fired_timers(session, followed.id) == 1


def test_worker_command_runs_one_pass(app, runtime, session):
    to_follow_up(runtime, session)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Échéances traitées : 0 (échecs : 0) ; tâches annoncées : 0" in result.output, "nothing due today"


def test_the_server_runs_the_worker_only_for_the_demo(app):
    import click

    from webapp.worker_cli import start_in_process

    run = click.Context(click.Command("run"), info_name="run")
    with run:
        assert start_in_process(app) is None, "never under tests"
    app.testing = False
    with click.Context(click.Command("worker"), info_name="worker"):
        app.extensions["settings"] = replace(settings_of(app), demo=True)
        assert start_in_process(app) is None, "only the server runs it"
    app.extensions["settings"] = replace(settings_of(app), demo=False)
    with run:
        assert start_in_process(app) is None, "only for the demo, or when asked"
        app.extensions["settings"] = replace(settings_of(app), run_worker_in_process=True)
        thread = start_in_process(app)
    thread_, stop = app.extensions["background_worker"]
    assert thread is thread_ and thread.daemon and thread.is_alive()
    stop.set()
    thread.join(timeout=60)
    assert not thread.is_alive()
