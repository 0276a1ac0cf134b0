"""Engine states saved by differences: what a delta log folds back to is exactly the full serialisation."""
from __future__ import annotations

import importlib
import json
from datetime import datetime

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event, select, update
from test_workflow_cache import fresh_runtime

from bench.workload import campaign_samples, step_data
from engine.campaign.campaigns import current_campaign
from engine.directory.tokens import issue_token
from engine.models import InstanceState, Person, ProcessInstance, StateChange
from engine.models.runtime import merge_state, ordered_log
from engine.runtime import store
from engine.runtime.deployment import bundle_for
from engine.runtime.runtime import Conflict
from engine.runtime.serialization import signatures
from engine.runtime.workflow_cache import WORKFLOWS

from conftest import principal_of
from test_processes import accepted_project, do, ready, run_volunteer_path, sample, start_project
from test_query_counts import REVIEWER, Statements, ok, projects_in_review, ready_row


def stored_row(sessions, instance_id: int) -> tuple[str, str]:
    """The full state and the delta log of an instance, as committed."""
    with sessions() as other:
        row = other.get(InstanceState, instance_id)
        return row.state, row.delta


@pytest.fixture
def checked_saves(monkeypatch, sessions):
    """Every save, then compared with the full serialisation of the workflow it saved; yields what was seen."""
    seen = {"compared": 0, "with_delta": 0, "lines": 0}
    save = store.InstanceStore.save

    def checked(self, loaded, instance, principal, completed=frozenset()):
        instance_id = instance.id
        save(self, loaded, instance, principal, completed)
        serializer = loaded.bundle.serializers[loaded.workflow.spec.name]
        expected = json.loads(serializer.dumps(loaded.workflow))
        full, delta = stored_row(sessions, instance_id)
        assert merge_state(json.loads(full), delta) == expected
        assert json.loads(serializer.dumps(serializer.loads(full, delta))) == expected
        seen["compared"] += 1
        seen["with_delta"] += bool(delta)
        seen["lines"] += delta.count("\n")

    monkeypatch.setattr(store.InstanceStore, "save", checked)
    return seen


def test_a_campaign_saved_by_differences_reads_back_as_its_full_serialisation(runtime, session, checked_saves):
    # Two places: two volunteer paths (subprocesses) side by side, follow-up timers fired by a worker.
    instance = accepted_project(runtime, session, "brest", places=2)
    run_volunteer_path(runtime, session, instance.id, "brest", "Léa")
    run_volunteer_path(runtime, session, instance.id, "brest", "Hugo")
    session.refresh(instance)
    assert instance.status == "completed"
    assert checked_saves["compared"] >= 25
    assert checked_saves["with_delta"] >= checked_saves["compared"] // 2, "most saves must append a delta"
    assert checked_saves["lines"] > checked_saves["with_delta"], "the log must also grow over several saves"


def test_the_delta_log_stays_within_its_bound_and_starts_again_from_a_full_state(runtime, session, sessions):
    instance = accepted_project(runtime, session, "brest", places=2)
    sizes = []
    for place in (1, 2):
        for spec_id, login in [("select_volunteer", "referent.brest"), ("confirm_selection", "tuteur.brest")]:
            [row] = [row for row in ready(session, instance.id, spec_id) if row.place == place]
            runtime.complete(row.id, principal_of(session, login), sample(spec_id))
            sizes.append(stored_row(sessions, instance.id))
    assert all(len(delta) <= store.DELTA_LOG_RATIO * len(full) for full, delta in sizes)
    assert any(delta == "" for full, delta in sizes[1:]), "a full state must be written again once the log is heavy"
    assert any(delta for full, delta in sizes)


def test_a_state_written_whole_loads_and_takes_differences_after_it(runtime, session, sessions, tmp_path):
    instance = start_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    # What a row written before saving by differences holds: the full state, no delta.
    full = session.get(ProcessInstance, instance.id).state
    with sessions() as other:
        other.execute(update(InstanceState).where(InstanceState.instance_id == instance.id).values(state=full))
        other.commit()
    WORKFLOWS.clear()
    runtime_two, session_two = fresh_runtime(sessions, tmp_path)
    with session_two:
        [row] = ready(session_two, instance.id)
        runtime_two.complete(row.id, principal_of(session_two, "gestionnaire.udogec35"), sample("review_project"))
        assert [task.spec_id for task in ready(session_two, instance.id)] == ["publish_offer"]
    kept, delta = stored_row(sessions, instance.id)
    assert kept == full and delta.count("\n") == 1, "the full state stays; the change is one line after it"


def test_the_migration_folds_a_delta_log_as_the_model_does(runtime, session, sessions):
    instance = accepted_project(runtime, session)
    full, delta = stored_row(sessions, instance.id)
    assert delta, "the accepted project's saves appended deltas"
    migration = importlib.import_module("engine.migrations.versions.0024_state_deltas")
    assert migration._merged(json.loads(full), delta) == merge_state(json.loads(full), delta)


def change_versions(sessions, instance_id: int) -> list[int]:
    """Versions of an instance's change rows, as committed."""
    with sessions() as other:
        return list(other.scalars(select(StateChange.version).where(StateChange.instance_id == instance_id)
                                  .order_by(StateChange.version)))


def test_each_save_by_differences_is_one_row_at_the_version_it_gave(runtime, session, sessions):
    instance = accepted_project(runtime, session)
    versions = change_versions(sessions, instance.id)
    assert versions, "the accepted project's saves appended change rows"
    with sessions() as other:
        current = other.get(ProcessInstance, instance.id).version
    assert versions[-1] == current and versions == sorted(set(versions))


def test_writing_the_full_state_deletes_the_change_rows_whoever_writes_it(runtime, session, sessions):
    instance = accepted_project(runtime, session)
    assert change_versions(sessions, instance.id)
    full = session.get(ProcessInstance, instance.id).state
    with sessions() as other:
        # A plain UPDATE, outside the store: the database's trigger folds the log all the same.
        other.execute(update(InstanceState).where(InstanceState.instance_id == instance.id).values(state=full))
        other.commit()
    assert change_versions(sessions, instance.id) == []
    assert stored_row(sessions, instance.id) == (full, "")


def test_the_log_read_in_one_value_comes_back_in_version_order():
    lines = [json.dumps({"n": n, "text": "a\tb"}) for n in range(12)]
    tagged = "".join(f"{version}\t{line}\n" for version, line in sorted(zip(range(3, 15), lines, strict=True),
                                                                      key=lambda pair: str(pair[0])))
    assert ordered_log(tagged) == "".join(f"{line}\n" for line in lines)
    assert ordered_log(None) == ordered_log("") == ""


def test_changes_too_heavy_for_the_log_are_not_converted_and_the_full_state_is_written(runtime, session, sessions,
                                                                                      monkeypatch):
    instance = accepted_project(runtime, session)
    loaded = runtime.load(session.get(ProcessInstance, instance.id))
    serializer = loaded.bundle.serializers[instance.process_id]
    empty = {key: {} for key in signatures(loaded.workflow)}  # every task counts as changed
    whole = len(serializer.dumps(loaded.workflow))
    line, now = serializer.changes(loaded.workflow, empty, room=whole // 2, whole=whole)
    assert line is None and now == signatures(loaded.workflow)
    line, _now = serializer.changes(loaded.workflow, empty, room=2 * whole, whole=whole)
    assert line is not None and len(line) > whole // 2
    # In a save, such changes go straight to a full state: no line is built for nothing.
    lines = []

    def changes(*args, _changes=serializer.changes, **kwargs):
        found = _changes(*args, **kwargs)
        lines.append(found[0])
        return found

    monkeypatch.setattr(serializer, "changes", changes)
    monkeypatch.setattr(store, "DELTA_LOG_RATIO", 0)
    [row] = ready(session, instance.id)
    runtime.complete(row.id, principal_of(session, "referent.rennes"), sample(row.spec_id))
    assert lines == [None] and change_versions(sessions, instance.id) == []


def test_a_stale_save_by_differences_is_refused_and_leaves_the_winner_state(runtime, session, sessions, tmp_path):
    instance = start_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    WORKFLOWS.clear()
    [row] = ready(session, instance.id)
    reviewer = "gestionnaire.udogec35"
    first, first_session = fresh_runtime(sessions, tmp_path)
    second, second_session = fresh_runtime(sessions, tmp_path)
    with first_session, second_session:
        late = second.ready_task(row.id, principal_of(second_session, reviewer))
        first.complete(row.id, principal_of(first_session, reviewer), sample("review_project"))
        winner = stored_row(sessions, instance.id)
        with pytest.raises(Conflict):
            second.complete(row.id, principal_of(second_session, reviewer), sample("review_project"), late)
    assert stored_row(sessions, instance.id) == winner
    with sessions() as other:
        saved = other.get(ProcessInstance, instance.id)
        workflow = bundle_for(saved.deployment).serializers[saved.process_id].loads(*winner)
    assert [task.task_spec.name for task in workflow.get_tasks(state=TaskState.READY, manual=True)] == ["publish_offer"]


@pytest.mark.parametrize("cold", [False, True], ids=["workflow-kept", "workflow-elsewhere"])
def test_a_completion_over_the_api_answers_what_it_saved_in_few_statements(session, runtime, client, app, cold):
    # Through the contract: plain tasks, service tasks, and the confirmed contract arming the follow-up timers.
    # `cold`: each completion lands on a process without the workflow (another worker saved it), which reads the
    # instance's state with the task, in the same statement.
    campaign = current_campaign(session)
    [instance_id] = projects_in_review(session, runtime, 1, 3000)
    logins = {"referent": "bench.referent.3000", "tuteur": "bench.tuteur.3000"}
    counts, timers_seen = {}, 0
    with Statements.of_app(app) as statements:
        while (row := ready_row(session, instance_id)) is not None:
            person = session.scalar(select(Person).where(Person.login == logins.get(row.lane, REVIEWER)))
            headers = {"Authorization": f"Bearer {issue_token(session, person, datetime.now())[0]}"}
            data = step_data(campaign_samples(campaign, 3000), row.spec_id)
            if cold:
                WORKFLOWS.clear()
            before = statements.count
            answer = ok(client.post(f"/api/v1/tasks/{row.id}/complete", json=data, headers=headers)).json
            counts[row.spec_id] = statements.count - before
            shown = ok(client.get(f"/api/v1/instances/{instance_id}", headers=headers)).json
            assert answer["instance"]["tasks"] == shown["tasks"]
            assert answer["instance"]["waiting"] == shown["waiting"]
            timers_seen += len(shown["waiting"])
            if row.spec_id == "confirm_contract":
                break
    assert timers_seen, "the confirmed contract arms the follow-up timers, which the answer must list"
    # Token and person, task with its siblings and instance, audit, instance (its versioned UPDATE is the claim when
    # no handler runs), state, task done, next task.
    assert counts["publish_offer"] == counts["select_volunteer"] == 7
    # Followed by service tasks: the campaign comes with the task rows, look-ups are shared within the request
    # (the référents notified and named in the offer), the contract's version comes back from its upsert, a
    # message's recipient is found by its own INSERT, the new timer rows go in one statement; only handlers writing
    # rows a concurrent change could write too (the contract) claim the instance first.
    assert counts["review_project"] <= 9
    assert counts["upload_signed_contract"] <= 9
    assert counts["confirm_contract"] <= 10
    assert counts["volunteer_file"] <= 10
    assert counts["draw_up_contract"] <= 12


def test_a_change_deep_inside_a_ready_tasks_data_is_written_even_with_a_value_that_cannot_be_pickled(runtime,
                                                                                                        session):
    def written(line: str) -> set[str]:
        return {task_id for part in json.loads(line)["p"].values() for task_id in part["tasks"]}

    instance = accepted_project(runtime, session, "rennes")
    bundle = bundle_for(instance.deployment)
    serializer = bundle.serializers[instance.process_id]
    stored = session.get(InstanceState, instance.id)
    workflow = serializer.loads(stored.state, stored.delta)
    task = next(task for task in workflow.get_tasks(state=TaskState.READY))
    task.data["suivi"] = {"entretiens": [{"date": "2027-10-01"}]}
    before = signatures(workflow)
    assert written(serializer.changes(workflow, before)[0]) == set()

    task.data["suivi"]["entretiens"][0]["date"] = "2027-10-08"
    line, after = serializer.changes(workflow, before)
    assert str(task.id) in written(line)
    assert written(serializer.changes(workflow, after)[0]) == set()

    # A script may leave a callable behind (the serializer drops it): the data's content is still compared.
    task.data["outil"] = lambda: None
    marked = signatures(workflow)
    task.data["suivi"]["entretiens"].append({"date": "2027-11-05"})
    assert str(task.id) in written(serializer.changes(workflow, marked)[0])


def test_a_state_read_outside_a_task_comes_with_its_log_in_one_statement(runtime, session, sessions):
    instance = accepted_project(runtime, session)
    expected = stored_row(sessions, instance.id)
    assert expected[1], "the accepted project's saves appended change rows"
    seen = []

    def executed(*args):
        seen.append(args[2])

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", executed)
    try:
        found = runtime.instances._stored_state(instance)
    finally:
        event.remove(bind, "before_cursor_execute", executed)
    assert found == expected and len(seen) == 1
