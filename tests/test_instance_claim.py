"""When a change claims its instance: before a handler that writes rows of its own, else by the save itself.

A change running no such handler is checked by the versioned UPDATE of the instance row at its save (one
statement less); a handler that writes rows a concurrent change could write too runs only once the row is
held, so that a change committed meanwhile turns the completion away before the handler runs, not after.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from test_workflow_cache import fresh_runtime

import handlers
from engine.models import Notification, ProcessInstance, Structure, TaskRow
from engine.models.follow_up import TrainingSession
from engine.runtime.runtime import Conflict
from engine.runtime.workflow_cache import WORKFLOWS

from conftest import SAMPLES, principal_of
from test_processes import do, ready, sample, start_project

ORGANISER = "gestionnaire.udogec35"


def changed_meanwhile(sessions, instance_id: int) -> None:
    """Another request's change of the instance, committed between a read and a completion."""
    with sessions() as other:
        instances = ProcessInstance.__table__
        other.execute(update(instances).where(instances.c.id == instance_id)
                      .values(version=instances.c.version + 1))
        other.commit()


def recording(monkeypatch, name: str) -> list[dict]:
    """The calls of a handler, which still does its work."""
    calls: list[dict] = []
    original = handlers.HANDLERS[name]

    def call(context, **params):
        calls.append(params)
        return original(context, **params)

    monkeypatch.setitem(handlers.HANDLERS, name, call)
    return calls


def completed_after_a_change_meanwhile(sessions, tmp_path, row: TaskRow, login: str, data: dict) -> None:
    """Complete a task as a request would whose dossier another request changed after it was read: a `Conflict`."""
    WORKFLOWS.clear()
    late, late_session = fresh_runtime(sessions, tmp_path)
    with late_session:
        ready_task = late.ready_task(row.id, principal_of(late_session, login))
        changed_meanwhile(sessions, row.instance_id)
        with pytest.raises(Conflict):
            late.complete(row.id, principal_of(late_session, login), data, ready_task)


def test_a_writing_handler_runs_only_once_the_instance_is_claimed(runtime, session, sessions, tmp_path, monkeypatch):
    structure = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    training = runtime.start("training", principal_of(session, ORGANISER), structure=structure, campaign="2027-2028")
    [plan] = session.scalars(select(TaskRow).where(TaskRow.instance_id == training.id, TaskRow.state == "ready"))
    session.commit()
    invitations = recording(monkeypatch, "invite_participants")
    completed_after_a_change_meanwhile(sessions, tmp_path, plan, ORGANISER, SAMPLES["plan_training"])
    assert invitations == [], "the handler opening the session must not run on a dossier changed meanwhile"
    with sessions() as fresh:
        assert fresh.get(ProcessInstance, training.id).incident is None
        assert fresh.scalar(select(func.count()).select_from(TrainingSession)
                            .where(TrainingSession.instance_id == training.id)) == 0
        assert fresh.get(TaskRow, plan.id).state == "ready"
    # Read again, the same completion goes through and the handler runs once.
    session.expire_all()
    do(runtime, session, training.id, ORGANISER, "plan_training", SAMPLES["plan_training"])
    assert len(invitations) == 1


def test_a_reading_handler_runs_unclaimed_and_the_save_turns_a_stale_change_away(runtime, session, sessions, tmp_path,
                                                                                 monkeypatch):
    instance = start_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    [review] = ready(session, instance.id)
    session.commit()
    notices = recording(monkeypatch, "notify_referents")
    completed_after_a_change_meanwhile(sessions, tmp_path, review, ORGANISER, sample("review_project"))
    assert len(notices) == 1, "a handler that only adds its own rows runs without claiming the dossier first"
    with sessions() as fresh:
        assert fresh.scalar(select(func.count()).select_from(Notification)
                            .where(Notification.instance_id == instance.id)) == 0, "its rows went with the change"
        assert fresh.get(TaskRow, review.id).state == "ready"
        assert fresh.get(ProcessInstance, instance.id).incident is None
