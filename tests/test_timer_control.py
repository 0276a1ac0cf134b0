"""Timers in hand: what a dossier waits for, read from the timer rows; firing one now or moving it, with a reason."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine.access import Forbidden
from engine.errors import Conflict
from engine.models import AuditEvent, Timer
from engine.ops.operations import InstanceOperations, OperationRefused
from engine.ops.timer_control import TimerControl, TimerGone, parse_due_at
from engine.views.history import instance_history
from engine.views.waiting import upcoming_in_establishments, waiting_events

from conftest import principal_of
from follow_up_support import run_worker, to_follow_up
from test_processes import do, ready, sample

NOW = datetime(2027, 3, 15, 10, 0)


@pytest.fixture
def control(session, runtime):
    """The timer operations, on the test clock (15 March 2027)."""
    return TimerControl(session, runtime.settings, clock=lambda: NOW)


@pytest.fixture
def followed(runtime, session):
    """A volunteer of Rennes under follow-up from 1 October 2027 to 31 May 2028."""
    return to_follow_up(runtime, session)


class WaitingTimer:
    """A timer of an instance read as values (firing replaces its row)."""

    def __init__(self, session, instance_id: int, element: str):
        self.id, self.due_at = session.execute(select(Timer.task_id, Timer.due_at).where(
            Timer.instance_id == instance_id, Timer.spec_id == element)).one()


def timer_of(session, instance_id: int, element: str) -> WaitingTimer:
    return WaitingTimer(session, instance_id, element)


def test_a_followed_mission_says_what_it_waits_for(followed, session):
    events = waiting_events(session, followed)
    assert [(e.kind, e.element, e.label, e.due_at) for e in events] == [
        ("cycle", "monthly_follow_up", "Prochain suivi mensuel", datetime(2027, 11, 1, 9, 0)),
        ("date", "mid_mission_reached", "Point de mi-mission", datetime(2028, 1, 30, 9, 0))]
    assert events[0].text == "Prochain suivi mensuel : le 1er novembre 2027"
    school = followed.establishment_id
    assert [u.event.text for u in upcoming_in_establishments(session, {school})] == [e.text for e in events]
    assert upcoming_in_establishments(session, set()) == []


def test_a_process_owner_fires_the_monthly_follow_up_now(followed, control, session):
    monthly = timer_of(session, followed.id, "monthly_follow_up")
    control.fire_now(followed, monthly.id, principal_of(session, "pilote"), "Démonstration du suivi")
    session.expire_all()
    (task,) = ready(session, followed.id)
    assert (task.spec_id, task.due_at) == ("record_follow_up", datetime(2027, 3, 25, 10, 0)), "due in 10 days"
    assert timer_of(session, followed.id, "monthly_follow_up").due_at == datetime(2027, 12, 1, 9, 0), (
        "the next occurrence stays on the calendar")
    assert {e.element for e in waiting_events(session, followed)} == {
        "monthly_follow_up", "mid_mission_reached", "follow_up_overdue"}
    event = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == followed.id,
                                                    AuditEvent.kind == "timer_fired"))
    assert event.summary == ("Échéance « Prochain suivi mensuel » du 1er novembre 2027 à 9 h 00 déclenchée sans "
                             "attendre — motif : Démonstration du suivi")
    assert event.data["reason"] == "Démonstration du suivi" and event.at == NOW
    labels = [entry.label for entry in instance_history(session, followed)]
    assert "Échéance déclenchée sans attendre" in labels
    overdue = timer_of(session, followed.id, "follow_up_overdue")
    do(control, session, followed.id, "tuteur.rennes", "record_follow_up", sample("record_follow_up"))
    with pytest.raises(TimerGone):
        # A page left open on the 1 November occurrence, which has fired since.
        control.fire_now(followed, monthly.id, principal_of(session, "pilote"), "Encore", monthly.due_at)
    with pytest.raises(TimerGone):
        control.fire_now(followed, overdue.id, principal_of(session, "pilote"), "Relance"), "gone with its task"


def test_a_gestionnaire_moves_the_mid_mission_of_their_territory(followed, control, session, sessions, tmp_path):
    middle = timer_of(session, followed.id, "mid_mission_reached")
    control.reschedule(followed, middle.id, principal_of(session, "gestionnaire.udogec35"),
                       datetime(2028, 2, 3, 10, 0), "Vacances scolaires")
    session.expire_all()
    assert timer_of(session, followed.id, "mid_mission_reached").due_at == datetime(2028, 2, 3, 10, 0)
    event = session.scalar(select(AuditEvent).where(AuditEvent.kind == "timer_moved"))
    assert event.summary == ("Échéance « Point de mi-mission » déplacée du 30 janvier 2028 à 9 h 00 au 3 février "
                             "2028 à 10 h 00 — motif : Vacances scolaires")
    run_worker(sessions, tmp_path, datetime(2028, 2, 1, 12, 0), session)
    assert ready(session, followed.id, "mid_mission_review") == []
    run_worker(sessions, tmp_path, datetime(2028, 2, 3, 10, 1), session)
    assert len(ready(session, followed.id, "mid_mission_review")) == 1


def test_a_moved_monthly_occurrence_fires_then_the_calendar_resumes(followed, control, session, sessions, tmp_path):
    monthly = timer_of(session, followed.id, "monthly_follow_up")
    control.reschedule(followed, monthly.id, principal_of(session, "pilote"), datetime(2027, 11, 4, 14, 0),
                       "Toussaint")
    session.expire_all()
    assert run_worker(sessions, tmp_path, datetime(2027, 11, 2, 10, 0), session).timers_fired == 0
    assert run_worker(sessions, tmp_path, datetime(2027, 11, 4, 14, 1), session).timers_fired == 1
    assert timer_of(session, followed.id, "monthly_follow_up").due_at == datetime(2027, 12, 1, 9, 0)


@pytest.mark.parametrize(("login", "refusal"), [
    ("gestionnaire.udogec29", Forbidden), ("referent.rennes", Forbidden), ("tuteur.rennes", Forbidden)])
def test_only_process_owners_and_gestionnaires_of_the_territory_hold_timers(followed, control, session, login,
                                                                            refusal):
    monthly = timer_of(session, followed.id, "monthly_follow_up")
    with pytest.raises(refusal):
        control.fire_now(followed, monthly.id, principal_of(session, login), "Essai")
    with pytest.raises(refusal):
        control.reschedule(followed, monthly.id, principal_of(session, login), datetime(2027, 11, 3), "Essai")
    assert timer_of(session, followed.id, "monthly_follow_up").due_at == datetime(2027, 11, 1, 9, 0)


def test_a_reason_and_a_due_time_to_come_are_required(followed, control, session):
    monthly = timer_of(session, followed.id, "monthly_follow_up")
    pilote = principal_of(session, "pilote")
    with pytest.raises(OperationRefused) as refused:
        control.fire_now(followed, monthly.id, pilote, "  ")
    assert (refused.value.status, refused.value.field) == (422, "reason")
    with pytest.raises(OperationRefused) as refused:
        control.reschedule(followed, monthly.id, pilote, datetime(2027, 3, 1), "Trop tard")
    assert (refused.value.field, "à venir" in refused.value.message) == ("due_at", True)
    with pytest.raises(OperationRefused):
        control.reschedule(followed, monthly.id, pilote, datetime(2207, 11, 1), "Faute de frappe")
    with pytest.raises(OperationRefused):
        parse_due_at("le 3 novembre")
    assert parse_due_at("2027-11-03T09:30") == datetime(2027, 11, 3, 9, 30)
    assert parse_due_at("2027-11-03") == datetime(2027, 11, 3)


def test_a_suspended_or_finished_dossier_or_a_timer_gone_is_refused(followed, control, runtime, session):
    monthly = timer_of(session, followed.id, "monthly_follow_up")
    pilote = principal_of(session, "pilote")
    operations = InstanceOperations(session, runtime.settings, clock=lambda: NOW)
    operations.suspend(followed, pilote, "Arrêt maladie du tuteur")
    with pytest.raises(Conflict) as refused:
        control.fire_now(followed, monthly.id, pilote, "Essai")
    assert refused.value.status == 409 and "suspendu" in refused.value.message
    operations.resume(followed, pilote)
    monthly = timer_of(session, followed.id, "monthly_follow_up")
    with pytest.raises(TimerGone):
        control.fire_now(followed, "00000000-0000-4000-8000-000000000000", pilote, "Essai")
    operations.terminate(followed, pilote, "Projet abandonné")
    with pytest.raises(Conflict) as refused:
        control.reschedule(followed, monthly.id, pilote, datetime(2027, 11, 3), "Essai")
    assert "terminé" in refused.value.message
