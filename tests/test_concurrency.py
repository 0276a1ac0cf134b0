"""Completions racing in separate processes: one wins, the other is told, nothing is lost."""
from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, Establishment, TaskRow

from conftest import SAMPLES, principal_of

pytestmark = pytest.mark.postgres



def _complete(url: str, storage: str, task_id: str, login: str, data: dict, barrier, results) -> None:
    from engine.db import make_engine, make_session_factory
    from engine.runtime.runtime import Conflict, ProcessRuntime, RuntimeSettings

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        runtime = ProcessRuntime(session, RuntimeSettings(Path(storage)))
        ready = runtime.ready_task(task_id, principal_of(session, login))
        barrier.wait()
        try:
            runtime.complete(task_id, principal_of(session, login), data, ready)
            results.put((task_id, "ok"))
        except Conflict:
            results.put((task_id, "conflict"))
        except Exception as error:  # reported to the test, which fails with it
            results.put((task_id, f"{type(error).__name__}: {error}"))
    engine.dispose()


def race(url: str, storage: str, jobs: list[tuple[str, str, dict]]) -> list[tuple[str, str]]:
    """Run completions in separate processes released at the same moment."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(len(jobs)), context.Queue()
    processes = [context.Process(target=_complete, args=(url, storage, *job, barrier, results)) for job in jobs]
    for process in processes:
        process.start()
    outcome = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    return outcome


def start(runtime, session, uai: str, login: str):
    establishment = session.scalar(select(Establishment).where(Establishment.uai == uai))
    return runtime.start("hosting_project", principal_of(session, login), establishment=establishment)


def ready(session, instance_id):
    session.expire_all()
    return list(session.scalars(select(TaskRow).where(TaskRow.instance_id == instance_id, TaskRow.state == "ready")
                                .order_by(TaskRow.place)))


def test_same_task_completed_twice_at_once(runtime, session, database_url, tmp_path):
    instance = start(runtime, session, "0350781J", "referent.rennes")
    (design,) = ready(session, instance.id)
    session.commit()
    job = (design.id, "referent.rennes", SAMPLES["design_project"])
    outcome = sorted(result for _task, result in race(database_url, str(tmp_path), [job, job]))
    assert outcome == ["conflict", "ok"]
    session.expire_all()
    assert session.get(TaskRow, design.id).state == "completed"
    events = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.task_id == design.id))
    assert events == 1
    assert [t.spec_id for t in ready(session, instance.id)] == ["review_project"]


def test_parallel_branches_completed_at_once_lose_nothing(runtime, session, database_url, tmp_path):
    instance = start(runtime, session, "0291652N", "referent.brest")
    for spec_id, login, data in [
        ("design_project", "referent.brest", {**SAMPLES["design_project"], "places_requested": 2}),
        ("review_project", "gestionnaire.udogec29", {**SAMPLES["review_project"], "places_granted": 2}),
        ("publish_offer", "referent.brest", SAMPLES["publish_offer"]),
    ]:
        (task,) = ready(session, instance.id)
        assert task.spec_id == spec_id
        runtime.complete(task.id, principal_of(session, login), data)
    first, second = ready(session, instance.id)
    session.commit()
    jobs = [(t.id, "referent.brest", SAMPLES["select_volunteer"]) for t in (first, second)]
    outcome = dict(race(database_url, str(tmp_path), jobs))
    assert set(outcome.values()) <= {"ok", "conflict"}, outcome
    session.expire_all()  # as a new request would: the other process changed the instance
    for task_id, result in outcome.items():
        if result == "conflict":
            runtime.complete(task_id, principal_of(session, "referent.brest"), SAMPLES["select_volunteer"])
    remaining = ready(session, instance.id)
    assert sorted((t.spec_id, t.place) for t in remaining) == [("confirm_selection", 1), ("confirm_selection", 2)]
    workflow = runtime.load(session.get(type(instance), instance.id)).workflow
    completed = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "select_volunteer" and t.state == 64]
    assert len(completed) == 2, "both completions are in the engine state"
