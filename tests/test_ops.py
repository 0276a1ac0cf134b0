"""Operations: the health check, worker heartbeats, request ids in logs, the consistency check."""
from __future__ import annotations

import io
import json
import logging
import multiprocessing
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from engine import progress
from engine.models import AuditEvent, Establishment, InstanceState, ProcessInstance, TaskRow
from engine.ops.consistency import check_consistency
from engine.ops.heartbeat import WorkerHeartbeat, heartbeat_ages, record_heartbeat
from engine.ops.operations import InstanceOperations
from engine.runtime.runtime import RuntimeSettings
from webapp.config import settings_of
from webapp.logging_setup import make_handler

from conftest import SAMPLES, principal_of

RENNES = "0350781J"


def start_rennes(runtime, session) -> ProcessInstance:
    establishment = session.scalar(select(Establishment).where(Establishment.uai == RENNES))
    return runtime.start("hosting_project", principal_of(session, "referent.rennes"), establishment=establishment,
                         campaign="2027-2028")


def ready_rows(session, instance) -> list[TaskRow]:
    session.expire_all()
    return list(session.scalars(select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready")))


# Heartbeats and health

def test_heartbeats_are_recorded_once_per_worker(session):
    record_heartbeat(session, "minuteur-1", {"pid": 12})
    record_heartbeat(session, "minuteur-1", {"pid": 12, "fired": 3})
    record_heartbeat(session, "minuteur-2")
    session.commit()
    assert session.get(WorkerHeartbeat, "minuteur-1").details == {"pid": 12, "fired": 3}
    later = session.get(WorkerHeartbeat, "minuteur-2").beat_at + timedelta(seconds=90)
    ages = heartbeat_ages(session, now=later)
    assert set(ages) == {"minuteur-1", "minuteur-2"} and ages["minuteur-2"] == 90


def test_workers_silent_for_a_week_are_forgotten(session):
    record_heartbeat(session, "hôte:101")
    session.execute(update(WorkerHeartbeat).values(beat_at=datetime(2020, 1, 1)))
    record_heartbeat(session, "hôte:102")
    session.commit()
    assert set(heartbeat_ages(session)) == {"hôte:102"}


def test_health_is_200_when_database_and_migrations_are_good(client):
    response = client.get("/health")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["status"] == "ok" and body["database"]["ok"] and body["migrations"]["ok"]
    assert body["migrations"]["database"] == body["migrations"]["code"] and body["migrations"]["code"]
    assert body["workers"] == {"ok": True, "required": 0, "max_age_seconds": 300, "fresh": 0, "ages": {}}


def test_health_judges_workers_when_some_are_required(app, client, session):
    app.extensions["settings"] = replace(settings_of(app), health_workers=2)
    absent = client.get("/health")
    assert absent.status_code == 503 and absent.json["workers"]["ok"] is False
    record_heartbeat(session, "minuteur-1")
    record_heartbeat(session, "minuteur-2")
    session.commit()
    assert client.get("/health").status_code == 200
    session.execute(update(WorkerHeartbeat).where(WorkerHeartbeat.name == "minuteur-2")
                    .values(beat_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=10)))
    session.commit()
    stale = client.get("/health")
    assert stale.status_code == 503
    assert stale.json["workers"]["fresh"] == 1 and stale.json["workers"]["ages"]["minuteur-2"] >= 600


def test_health_is_503_on_a_database_not_migrated(tmp_path):
    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'vide.db'}", "SECRET_KEY": "test",
                      "STORAGE_DIR": tmp_path / "documents"})
    response = app.test_client().get("/health")
    app.extensions["db_engine"].dispose()
    assert response.status_code == 503 and response.json["status"] == "error"
    assert response.json["database"]["ok"] and response.json["migrations"] == {
        "ok": False, "database": [], "code": response.json["migrations"]["code"]}


def test_health_is_503_when_the_database_is_unreachable(tmp_path):
    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'absent' / 'x.db'}",
                      "SECRET_KEY": "test", "STORAGE_DIR": tmp_path / "documents"})
    response = app.test_client().get("/health")
    app.extensions["db_engine"].dispose()
    assert response.status_code == 503
    assert response.json["database"] == {"ok": False, "error": "OperationalError"}


# Several workers starting at once

def _read_secret_key(directory, barrier, keys) -> None:
    from webapp.config import settings_from_environment

    barrier.wait()
    keys.put(settings_from_environment(directory).secret_key)


def test_workers_starting_together_share_one_generated_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    context = multiprocessing.get_context("fork")
    barrier, keys = context.Barrier(6), context.Queue()
    workers = [context.Process(target=_read_secret_key, args=(tmp_path / "instance", barrier, keys)) for _ in range(6)]
    for worker in workers:
        worker.start()
    seen = {keys.get(timeout=60) for _ in workers}
    for worker in workers:
        worker.join(timeout=60)
    assert len(seen) == 1 and len(seen.pop()) == 64
    assert [path.name for path in (tmp_path / "instance").iterdir()] == ["secret_key"]


# Request ids and structured logs

@pytest.mark.parametrize(("sent", "kept"), [("proxy-42.a", True), (None, False), ("deux mots", False),
                                            ("x" * 200, False)])
def test_request_id_is_honoured_when_sensible_and_generated_otherwise(client, sent, kept):
    response = client.get("/connexion", headers={"X-Request-ID": sent} if sent else {})
    returned = response.headers["X-Request-ID"]
    if kept:
        assert returned == sent
    else:
        assert returned != sent and len(returned) == 32 and int(returned, 16) >= 0


def test_every_response_carries_a_request_id_even_errors(client, api):
    assert "X-Request-ID" in client.get("/dossiers/999999").headers
    assert api.get("/api/v1/tasks").headers["X-Request-ID"]


@pytest.fixture
def json_log():
    """Lines logged as JSON by the app's handler while a test runs."""
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_completion_log_line_names_request_person_and_instance(api, runtime, session, json_log):
    instance = start_rennes(runtime, session)
    (design,) = ready_rows(session, instance)
    person = principal_of(session, "referent.rennes").person_id
    headers = {"Authorization": f"Bearer {api.token('referent.rennes')}", "X-Request-ID": "essai-1"}
    response = api.client.post(f"/api/v1/tasks/{design.id}/complete", json=SAMPLES["design_project"],
                               headers=headers)
    assert response.status_code == 200
    lines = [line for line in json_log() if line.get("request_id") == "essai-1"]
    completion = next(line for line in lines if line["logger"] == "engine.runtime.runtime")
    assert completion["message"] == "Tâche design_project accomplie" and completion["level"] == "INFO"
    assert completion["user"] == person and completion["instance_id"] == instance.id
    assert completion["task_id"] == design.id and completion["time"].endswith("+00:00")


def test_text_log_line_has_the_same_context(app):
    stream = io.StringIO()
    logger = logging.getLogger("essai.texte")
    handler = make_handler("text", stream)
    logger.addHandler(handler)
    try:
        with app.test_request_context("/dossiers/7", headers={"X-Request-ID": "req-7"}):
            app.preprocess_request()
            logger.warning("Quelque chose")
    finally:
        logger.removeHandler(handler)
    assert "WARNING essai.texte [req=req-7 user=None instance=7] Quelque chose" in stream.getvalue()


# Consistency

def test_consistency_check_passes_on_a_campaign_in_progress(runtime, session):
    instance = start_rennes(runtime, session)
    (design,) = ready_rows(session, instance)
    runtime.complete(design.id, principal_of(session, "referent.rennes"), SAMPLES["design_project"])
    report = check_consistency(session)
    assert report.ok, [str(problem) for problem in report.problems]
    assert report.instances == 1 and report.tasks == 2


def test_a_suspended_instance_is_consistent_but_a_suspended_finished_one_is_not(runtime, session, tmp_path):
    live, finished = start_rennes(runtime, session), start_rennes(runtime, session)
    operations = InstanceOperations(session, RuntimeSettings(tmp_path / "documents"))
    operations.suspend(live, principal_of(session, "pilote"), "Congé de la référente")
    operations.terminate(finished, principal_of(session, "pilote"), "Doublon")
    finished.status = "suspended"
    session.commit()
    problems = [(p.instance_id, p.message) for p in check_consistency(session).problems]
    assert problems == [(finished.id, "statut enregistré « suspended » mais l'état du moteur donne « terminated »")]


def test_consistency_check_names_every_disagreement(runtime, session):
    instance = start_rennes(runtime, session)
    (design,) = ready_rows(session, instance)
    runtime.complete(design.id, principal_of(session, "referent.rennes"), SAMPLES["design_project"])
    (review,) = ready_rows(session, instance)
    session.delete(review)
    session.add(AuditEvent(instance_id=instance.id, task_id=design.id, spec_id="design_project", kind="completed",
                           summary="doublon", at=datetime.now()))
    broken = start_rennes(runtime, session)
    session.execute(update(InstanceState).where(InstanceState.instance_id == broken.id).values(state="{pas du json"))
    session.commit()
    problems = {(p.instance_id, p.task_id, p.message.split(" (")[0]) for p in check_consistency(session).problems}
    assert problems == {
        (instance.id, review.id, "tâche prête dans le moteur mais absente de la table des tâches"),
        (instance.id, design.id, "tâche accomplie avec 2 événements d'audit au lieu d'un"),
        (broken.id, None, "état du moteur illisible"),
    }


def test_the_walk_through_stored_states_tells_its_progress(runtime, session, monkeypatch):
    monkeypatch.setattr(progress, "MINIMUM_STEP", 2)
    for _ in range(5):
        start_rennes(runtime, session)
    heard = []
    report = check_consistency(session, progress=lambda done, total: heard.append((done, total)))
    assert report.ok and report.instances == 5
    assert heard == [(2, 5), (4, 5), (5, 5)]


def test_db_check_command_reports_and_fails_on_problems(app, runtime, session):
    instance = start_rennes(runtime, session)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0 and "Base cohérente : vérification faite sur 1 dossier et 1 tâche." in result.output
    assert "Dossiers lus : 1 / 1 (100 %)" in result.output
    session.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id).values(status="completed"))
    session.commit()
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 1
    expected = f"dossier {instance.id} : statut enregistré « completed » mais l'état du moteur donne « running »"
    assert expected in result.output
    assert "1 incohérence sur 1 dossier." in result.output
