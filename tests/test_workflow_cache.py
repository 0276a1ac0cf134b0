"""Workflows kept between requests: reused only for the exact state they were saved as, never half-changed."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from engine.models import InstanceState, ProcessInstance
from engine.runtime.runtime import FormInvalid, ProcessRuntime, RuntimeSettings
from engine.runtime.store import write_state
from engine.runtime.workflow_cache import WORKFLOWS, WorkflowCache

from conftest import principal_of
from test_processes import do, ready, sample, start_project

CLOCK = datetime(2027, 3, 15, 10, 0)


def fresh_runtime(sessions, tmp_path):
    """A runtime on a session of its own, as another request would have."""
    session = sessions()
    return ProcessRuntime(session, RuntimeSettings(tmp_path / "documents"), clock=lambda: CLOCK), session


def test_the_next_change_reuses_the_workflow_saved_by_the_previous_one(runtime, session):
    instance = start_project(runtime, session)
    hits = WORKFLOWS.hits
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    do(runtime, session, instance.id, "gestionnaire.udogec35", "review_project", sample("review_project"))
    assert WORKFLOWS.hits == hits + 2
    assert [row.spec_id for row in ready(session, instance.id)] == ["publish_offer"]


def test_a_state_changed_elsewhere_is_read_again(runtime, session, sessions, tmp_path):
    instance = start_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    # Another process rewrites the state (an anonymisation, a repair): the instance gets a new version.
    with sessions() as other:
        elsewhere = other.get(ProcessInstance, instance.id)
        state = json.loads(elsewhere.state)
        for task in state["tasks"].values():
            task["data"]["note_of_elsewhere"] = "written elsewhere"
        write_state(other, elsewhere, json.dumps(state))
        other.commit()
    runtime_two, session_two = fresh_runtime(sessions, tmp_path)
    with session_two:
        [row] = ready(session_two, instance.id)
        runtime_two.complete(row.id, principal_of(session_two, "gestionnaire.udogec35"), sample("review_project"))
        saved = session_two.scalar(select(InstanceState.state).where(InstanceState.instance_id == instance.id))
    assert "written elsewhere" in saved, "the kept workflow of the older version must not be used"


def test_a_refused_submission_leaves_no_workflow_behind(runtime, session, sessions, tmp_path):
    instance = start_project(runtime, session)
    [row] = ready(session, instance.id)
    with pytest.raises(FormInvalid):
        runtime.complete(row.id, principal_of(session, "referent.rennes"), sample("design_project", places_requested=0))
    session.rollback()
    hits = WORKFLOWS.hits
    runtime_two, session_two = fresh_runtime(sessions, tmp_path)
    with session_two:
        [again] = ready(session_two, instance.id)
        runtime_two.complete(again.id, principal_of(session_two, "referent.rennes"), sample("design_project"))
        assert [r.spec_id for r in ready(session_two, instance.id)] == ["review_project"]
    assert WORKFLOWS.hits == hits, "the refused request took the workflow out; nothing may have put it back"


def test_showing_a_task_leaves_the_kept_workflow_for_its_completion(runtime, session):
    instance = start_project(runtime, session)
    [row] = ready(session, instance.id)
    referent = principal_of(session, "referent.rennes")
    runtime.ready_task(row.id, referent, for_change=False)
    hits = WORKFLOWS.hits
    runtime.complete(row.id, referent, sample("design_project"))
    assert WORKFLOWS.hits == hits + 1


def test_the_state_is_written_only_through_the_store_and_makes_a_new_version(runtime, session):
    instance = start_project(runtime, session)
    with pytest.raises(AttributeError):
        instance.state = "{}"
    version = instance.version
    write_state(session, instance, instance.state)
    session.commit()
    assert instance.version == version + 1, "even an unchanged state is a new version of the instance"


def test_the_cache_is_bounded_and_matches_identity_exactly():
    cache = WorkflowCache(size=2)
    for instance_id in (1, 2, 3):
        cache.keep(instance_id, (1, 1, CLOCK), object())
    assert len(cache) == 2 and cache.take(1, (1, 1, CLOCK)) is None
    assert cache.take(2, (2, 1, CLOCK)) is None, "another version is another state"
    assert cache.take(2, (1, 1, CLOCK)) is None, "a failed take removes the entry"
    kept = object()
    cache.keep(3, (4, 1, CLOCK), kept)
    assert cache.take(3, (4, 1, CLOCK)) is kept and len(cache) == 0


def test_the_cache_knows_the_ready_tasks_of_the_workflows_it_keeps():
    cache = WorkflowCache(size=1)
    cache.keep(1, (1, 1, CLOCK), object(), ["a", "b"])
    assert cache.holds_task("a") and cache.holds_task("b") and not cache.holds_task("c")
    cache.keep(1, (2, 1, CLOCK), object(), ["c"])
    assert not cache.holds_task("a"), "the tasks of the version kept before are no longer held"
    assert cache.holds_task("c")
    cache.keep(2, (1, 1, CLOCK), object(), ["d"])
    assert not cache.holds_task("c"), "an evicted workflow's tasks go with it"
    cache.take(2, (1, 1, CLOCK))
    assert not cache.holds_task("d"), "a workflow taken out for a change holds no task until it is kept again"
