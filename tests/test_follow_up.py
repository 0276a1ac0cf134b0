"""Follow-up of a mission (step 7), driven by timers that a worker fires as the clock moves on."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from engine.access import Forbidden
from engine.campaign.termination import end_mission
from engine.models import AuditEvent, Document, Notification, ProcessInstance, TaskRow, Timer, VolunteerMission
from engine.runtime.runtime import FormInvalid

from conftest import principal_of
from follow_up_support import run_worker, to_follow_up
from test_processes import do, ready, sample

# The sample contract runs from 1 October 2027 to 31 May 2028: follow-ups on the 1st of each month from November.
FIRST_MONTH = datetime(2027, 11, 1, 10, 0)
REMINDER = "Suivi mensuel en retard : Léa Martin"


def timers(session, instance_id: int) -> dict[str, datetime]:
    """Waiting timers of an instance by element id."""
    return {t.spec_id: t.due_at for t in session.scalars(select(Timer).where(Timer.instance_id == instance_id))}


def reminders(session) -> list[str]:
    """Recipients of the overdue reminders sent so far."""
    return sorted(session.scalars(select(Notification.recipient).where(Notification.subject == REMINDER)))


@pytest.fixture
def followed(runtime, session):
    """A volunteer of Rennes whose contract is confirmed: the follow-up waits on its first month."""
    return to_follow_up(runtime, session)


def test_follow_up_waits_on_its_timers(followed, session):
    mission = session.scalar(select(VolunteerMission).where(VolunteerMission.instance_id == followed.id))
    assert (mission.status, mission.structure_code, mission.volunteer_name) == ("in_progress", "UDOGEC-35",
                                                                                 "Léa Martin")
    assert ready(session, followed.id) == []
    assert timers(session, followed.id) == {"monthly_follow_up": datetime(2027, 11, 1, 9, 0),
                                            "mid_mission_reached": datetime(2028, 1, 30, 9, 0)}


def test_monthly_follow_up_task_appears_when_its_month_comes(followed, session, sessions, tmp_path):
    assert run_worker(sessions, tmp_path, datetime(2027, 10, 31, 23, 0), session).timers_fired == 0
    assert ready(session, followed.id) == []

    assert run_worker(sessions, tmp_path, FIRST_MONTH, session).timers_fired == 1
    (task,) = ready(session, followed.id)
    assert (task.spec_id, task.lane, task.place) == ("record_follow_up", "accompagnant", 1)
    assert task.due_at == datetime(2027, 11, 11, 10, 0), "due when the reminder would go"
    assert timers(session, followed.id)["monthly_follow_up"] == datetime(2027, 12, 1, 9, 0)
    fired = session.scalars(select(AuditEvent.summary).where(AuditEvent.instance_id == followed.id,
                                                              AuditEvent.kind == "timer")).all()
    assert fired == ["Chaque mois"]
    assert run_worker(sessions, tmp_path, FIRST_MONTH, session).timers_fired == 0, "fired once"


def test_tuteur_cotuteur_or_referent_records_the_follow_up(followed, runtime, session, sessions, tmp_path):
    run_worker(sessions, tmp_path, FIRST_MONTH, session)
    run_worker(sessions, tmp_path, datetime(2027, 12, 1, 10, 0), session)
    run_worker(sessions, tmp_path, datetime(2028, 1, 1, 10, 0), session)
    assert len(ready(session, followed.id, "record_follow_up")) == 3
    for login in ("cotuteur.rennes", "referent.rennes", "tuteur.rennes"):
        do(runtime, session, followed.id, login, "record_follow_up", sample("record_follow_up"))
    assert ready(session, followed.id) == []
    run_worker(sessions, tmp_path, datetime(2028, 2, 1, 10, 0), session)
    with pytest.raises(Forbidden):
        do(runtime, session, followed.id, "tuteur.brest", "record_follow_up", sample("record_follow_up"))


def test_overdue_follow_up_sends_one_reminder_over_many_worker_runs(followed, runtime, session, sessions, tmp_path):
    run_worker(sessions, tmp_path, FIRST_MONTH, session)
    run_worker(sessions, tmp_path, datetime(2027, 11, 11, 9, 0), session)
    assert reminders(session) == [], "not overdue yet"
    for day in (11, 12, 15, 20, 25):
        run_worker(sessions, tmp_path, datetime(2027, 11, day, 11, 0), session)
    assert reminders(session) == ["cotuteur.rennes@example.org", "julien.lemoine@example.org",
                                  "referent.rennes@example.org", "tuteur.rennes@example.org"]
    (task,) = ready(session, followed.id)
    assert task.spec_id == "record_follow_up", "the reminder leaves the task to do"
    do(runtime, session, followed.id, "tuteur.rennes", "record_follow_up", sample("record_follow_up"))
    run_worker(sessions, tmp_path, datetime(2027, 11, 30, 11, 0), session)
    assert len(reminders(session)) == 4


def test_follow_up_recorded_in_time_sends_no_reminder(followed, runtime, session, sessions, tmp_path):
    run_worker(sessions, tmp_path, FIRST_MONTH, session)
    do(runtime, session, followed.id, "tuteur.rennes", "record_follow_up", sample("record_follow_up"))
    assert "follow_up_overdue" not in timers(session, followed.id)
    run_worker(sessions, tmp_path, datetime(2027, 11, 25, 11, 0), session)
    assert reminders(session) == []


def test_mission_runs_to_its_report_and_certificate(followed, runtime, session, sessions, tmp_path):
    run_worker(sessions, tmp_path, FIRST_MONTH, session)
    do(runtime, session, followed.id, "tuteur.rennes", "record_follow_up", sample("record_follow_up"))
    run_worker(sessions, tmp_path, datetime(2028, 2, 1, 10, 0), session)
    waiting = sorted(r.spec_id for r in ready(session, followed.id))
    assert waiting == ["mid_mission_review"] + ["record_follow_up"] * 3, (
        "one pass catches up the months missed (1 December, 1 January, 1 February) and the mid-mission")
    do(runtime, session, followed.id, "referent.rennes", "mid_mission_review", sample("mid_mission_review"))
    for month in (2, 3, 4, 5):
        run_worker(sessions, tmp_path, datetime(2028, month, 20, 10, 0), session)
    assert [r.spec_id for r in ready(session, followed.id, "end_of_mission_report")] == ["end_of_mission_report"]
    pending = ready(session, followed.id, "record_follow_up")
    assert pending, "late monthly follow-ups are still waiting"
    do(runtime, session, followed.id, "cotuteur.rennes", "end_of_mission_report", sample("end_of_mission_report"))

    session.refresh(followed)
    assert followed.status == "completed", "the campaign's only path is over"
    assert ready(session, followed.id) == [] and timers(session, followed.id) == {}
    assert {session.get(TaskRow, r.id).state for r in pending} == {"cancelled"}
    mission = session.scalar(select(VolunteerMission).where(VolunteerMission.instance_id == followed.id))
    assert (mission.status, mission.ended_on.isoformat()) == ("completed", "2028-05-31")
    certificate = session.scalar(select(Document).where(Document.instance_id == followed.id,
                                                        Document.kind == "certificate"))
    assert certificate.content_type == "application/pdf"
    assert runtime.documents.path_of(certificate).read_bytes().startswith(b"%PDF")


def test_early_termination_cancels_pending_follow_up_tasks(followed, runtime, session, sessions, tmp_path):
    run_worker(sessions, tmp_path, FIRST_MONTH, session)
    run_worker(sessions, tmp_path, datetime(2027, 12, 1, 10, 0), session)
    pending = ready(session, followed.id)
    assert len(pending) == 2
    mission = session.scalar(select(VolunteerMission).where(VolunteerMission.instance_id == followed.id))

    end_mission(runtime, mission, principal_of(session, "referent.rennes"), sample("end_mission"))

    session.refresh(followed)
    assert followed.status == "completed" and ready(session, followed.id) == []
    assert {session.get(TaskRow, r.id).state for r in pending} == {"cancelled"}
    assert timers(session, followed.id) == {}
    session.refresh(mission)
    assert (mission.status, mission.termination_initiator, mission.ended_on.isoformat()) == (
        "terminated", "volunteer", "2027-12-15")
    notice = session.scalar(select(Notification).where(Notification.subject == "Fin anticipée de mission : Léa Martin"))
    assert notice.recipient == "gestionnaire.udogec35@example.org" and "CDI" in notice.body
    event = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == followed.id, AuditEvent.kind == "event"))
    assert event.data["reason"] == sample("end_mission")["reason"] and event.actor_id is not None
    assert run_worker(sessions, tmp_path, datetime(2028, 3, 1, 10, 0), session).timers_fired == 0
    assert ready(session, followed.id) == []


def test_gestionnaire_of_the_contract_may_end_the_mission_others_may_not(followed, runtime, session):
    mission = session.scalar(select(VolunteerMission).where(VolunteerMission.instance_id == followed.id))
    for outsider in ("tuteur.rennes", "cotuteur.rennes", "referent.brest", "gestionnaire.udogec29"):
        with pytest.raises(Forbidden):
            end_mission(runtime, mission, principal_of(session, outsider), sample("end_mission"))
    end_mission(runtime, mission, principal_of(session, "gestionnaire.udogec35"), sample("end_mission"))
    session.refresh(mission)
    assert mission.status == "terminated"


@pytest.mark.parametrize("changes, field, message", [
    ({"end_date": "2027-09-01"}, "end_date", "ne peut pas précéder son début"),
    ({"end_date": "2028-07-01"}, "end_date", "doit précéder la fin du contrat"),
    ({"reason": ""}, "reason", ""),
    ({"initiator": "state"}, "initiator", ""),
])
def test_termination_form_errors_change_nothing(followed, runtime, session, changes, field, message):
    mission = session.scalar(select(VolunteerMission).where(VolunteerMission.instance_id == followed.id))
    with pytest.raises(FormInvalid) as invalid:
        end_mission(runtime, mission, principal_of(session, "referent.rennes"), sample("end_mission", **changes))
    assert message in " ".join(invalid.value.errors[field])
    session.refresh(mission)
    assert mission.status == "in_progress" and "monthly_follow_up" in timers(session, followed.id)


def test_a_mission_ended_cannot_be_ended_again(followed, runtime, session):
    mission = session.scalar(select(VolunteerMission).where(VolunteerMission.instance_id == followed.id))
    end_mission(runtime, mission, principal_of(session, "referent.rennes"), sample("end_mission"))
    with pytest.raises(FormInvalid) as invalid:
        end_mission(runtime, mission, principal_of(session, "referent.rennes"), sample("end_mission"))
    assert "plus en cours" in invalid.value.errors["__form__"][0]
    assert session.scalar(select(func.count()).select_from(ProcessInstance)
                          .where(ProcessInstance.id == followed.id, ProcessInstance.status == "completed")) == 1
