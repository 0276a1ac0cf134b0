"""Parallel branches of one instance completed at once, and what people are told when they collide.

A test-only process (tests/processes/parallel_opinions.bpmn) forks into an
opinion of the référent and one of the tuteur, joined before a script task
that reads both: a lost update would leave one opinion out, or the join
waiting for ever.
"""
from __future__ import annotations

import html
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from engine.errors import CONCURRENT_CHANGE
from engine.models import AuditEvent, Establishment, ProcessInstance, Structure, TaskRow
from engine.ops.consistency import check_consistency
from engine.runtime.deployment import deploy, read_definition_files
from engine.runtime.store import InstanceStore

from conftest import ROOT, SAMPLES, principal_of
from test_concurrency import race

pytestmark = pytest.mark.postgres

TEST_PROCESSES = Path(__file__).parent / "processes"
ACTORS = {"referent_opinion": "referent.rennes", "tutor_opinion": "tuteur.rennes"}


@pytest.fixture
def opinions(session):
    """The campaign's processes deployed with the test process, as the current version."""
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    files["processes/parallel_opinions.bpmn"] = (TEST_PROCESSES / "parallel_opinions.bpmn").read_text(encoding="utf-8")
    files["forms/opinion.schema.json"] = (TEST_PROCESSES / "opinion.schema.json").read_text(encoding="utf-8")
    deploy(session, files, actor="tests")
    session.commit()


def start_opinions(runtime, session) -> tuple[ProcessInstance, dict[str, TaskRow]]:
    """A new instance of the test process for Rennes, with its two ready tasks by spec id."""
    establishment = session.scalar(select(Establishment).where(Establishment.uai == "0350781J"))
    instance = runtime.start("parallel_opinions", principal_of(session, "referent.rennes"), establishment=establishment)
    rows = session.scalars(select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready"))
    return instance, {row.spec_id: row for row in rows}


def test_both_branches_completed_at_once_lose_nothing(opinions, runtime, session, database_url, tmp_path):
    started = [start_opinions(runtime, session) for _ in range(3)]
    session.commit()
    assert all(set(tasks) == set(ACTORS) and {t.lane for t in tasks.values()} == {"referent", "tuteur"}
               for _instance, tasks in started)
    jobs = [(row.id, ACTORS[spec_id], {"opinion": f"avis {spec_id} {instance.id}"})
            for instance, tasks in started for spec_id, row in tasks.items()]
    outcome = dict(race(database_url, str(tmp_path), jobs))
    assert set(outcome.values()) <= {"ok", "conflict"}, outcome
    for _instance, tasks in started:
        assert "ok" in {outcome[row.id] for row in tasks.values()}, "one completion of each instance goes through"
    session.expire_all()  # as the next request would see the database
    for task_id, data in ((job[0], job[2]) for job in jobs if outcome[job[0]] == "conflict"):
        row = session.get(TaskRow, task_id)
        assert row.state == "ready", "a conflict leaves the task to do again"
        runtime.complete(task_id, principal_of(session, ACTORS[row.spec_id]), data)
    for instance, tasks in started:
        session.refresh(instance)
        assert instance.status == "completed"
        workflow = runtime.load(instance).workflow
        assert workflow.data["opinions"] == [f"avis referent_opinion {instance.id}",
                                             f"avis tutor_opinion {instance.id}"]
        for row in tasks.values():
            events = session.scalar(select(func.count()).select_from(AuditEvent)
                                    .where(AuditEvent.task_id == row.id, AuditEvent.kind == "completed"))
            assert session.get(TaskRow, row.id).state == "completed" and events == 1
    report = check_consistency(session)
    assert report.ok, [str(problem) for problem in report.problems]


@pytest.fixture
def concurrent_writer(monkeypatch, db_engine):
    """Make someone else save an instance between a request's reading it and its first write, once.

    (The test process runs no handler: its change writes first its audit event, then claims the instance by the
    save's versioned UPDATE.)
    """
    original = InstanceStore.record
    targets: set[int] = set()

    def record_after_someone_else(self, instance, *args, **kwargs):
        if instance.id in targets:
            targets.discard(instance.id)
            with db_engine.begin() as connection:
                connection.execute(update(ProcessInstance).where(ProcessInstance.id == instance.id)
                                   .values(version=ProcessInstance.version + 1))
        return original(self, instance, *args, **kwargs)

    monkeypatch.setattr(InstanceStore, "record", record_after_someone_else)
    return targets


def test_browser_is_told_in_french_and_keeps_the_task(opinions, runtime, session, browser, concurrent_writer):
    instance, tasks = start_opinions(runtime, session)
    session.commit()
    task = tasks["referent_opinion"]
    browser.login("referent.rennes")
    concurrent_writer.add(instance.id)
    response = browser.post_form(f"/taches/{task.id}", {"opinion": "favorable"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    inbox = html.unescape(browser.client.get("/").get_data(as_text=True))
    assert CONCURRENT_CHANGE in inbox
    session.expire_all()
    assert session.get(TaskRow, task.id).state == "ready"
    again = browser.post_form(f"/taches/{task.id}", {"opinion": "favorable"})
    assert again.status_code == 302
    session.expire_all()
    assert session.get(TaskRow, task.id).state == "completed"


def test_api_answers_409_and_keeps_the_task(opinions, runtime, session, api, concurrent_writer):
    instance, tasks = start_opinions(runtime, session)
    session.commit()
    task = tasks["tutor_opinion"]
    concurrent_writer.add(instance.id)
    response = api.post(f"/api/v1/tasks/{task.id}/complete", "tuteur.rennes", json={"opinion": "réservé"})
    assert response.status_code == 409
    assert response.json == {"status": 409, "code": "conflict", "message": CONCURRENT_CHANGE, "errors": []}
    session.expire_all()
    assert session.get(TaskRow, task.id).state == "ready"
    again = api.post(f"/api/v1/tasks/{task.id}/complete", "tuteur.rennes", json={"opinion": "réservé"})
    assert again.status_code == 200


def test_race_on_a_task_whose_handler_writes_rows_is_a_conflict(runtime, session, database_url, tmp_path):
    structure = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    training = runtime.start("training", principal_of(session, "gestionnaire.udogec35"), structure=structure,
                             campaign="2027-2028")
    plan = session.scalar(select(TaskRow).where(TaskRow.instance_id == training.id, TaskRow.state == "ready"))
    session.commit()
    job = (plan.id, "gestionnaire.udogec35", SAMPLES["plan_training"])
    outcome = sorted(result for _task, result in race(database_url, str(tmp_path), [job, job]))
    assert outcome == ["conflict", "ok"]
    session.expire_all()
    assert session.get(TaskRow, plan.id).state == "completed"
    assert check_consistency(session).ok


def test_claim_ignores_the_callers_own_pending_changes(opinions, runtime, session):
    instance, _tasks = start_opinions(runtime, session)
    session.commit()
    version = instance.version
    instance.title = "Avis croisés — titre changé"
    runtime.instances.claim(instance)
    session.commit()
    session.expire_all()
    assert (instance.title, instance.version) == ("Avis croisés — titre changé", version + 1)
