"""The demo story: seeded as a real day of the year, in any season, each demo account with its step to play."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.campaign.campaigns import (
    campaign_in_preparation,
    campaign_in_progress,
    check_project_start,
    previous_school_year,
    school_year_of,
)
from engine.campaign.training_tracking import training_tracking
from engine.demo.cast import DEMO_PATH, PREPARATION, ROLE_SCHOOLS
from engine.demo.dates import (
    CERTIFICATE,
    ENDED_EARLY,
    FOLLOW_UP_DUE,
    FOLLOW_UP_OVERDUE,
    GOING_ON,
    JUST_STARTED,
    MID_MISSION_REVIEW,
    MISSION_ENDING,
    ROLES,
    missions,
    past_dates,
    preparation_dates,
    session_day,
)
from engine.demo.story import play_demo_story, story_can_start
from engine.models import (
    Document,
    Establishment,
    Notification,
    ProcessInstance,
    TaskRow,
    Timer,
    TrainingSession,
    VolunteerMission,
)
from engine.views.queries import actionable_tasks
from handlers.eligibility import mission_end_bounds

from conftest import deployed_database, principal_of

# A day of each season: the fixed "today" of the suite (a Monday of December), mid-March and mid-July.
SEASONS = [datetime(2026, 12, 7, 10, 30), datetime(2027, 3, 15, 9, 45), datetime(2027, 7, 15, 11, 0)]


def every_day(first: date, last: date, step: int = 1):
    """Days from `first` to `last`, `step` days apart."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=step)


def check_missions(today: date) -> None:
    """Each role's mission shows its moment today, within the rules of a mission and of its campaign."""
    found = missions(today)
    assert set(found) == set(ROLES)
    in_progress = school_year_of(today)
    for role, mission in found.items():
        earliest, latest = mission_end_bounds(mission.start)
        assert earliest <= mission.end <= latest, (today, role)
        assert past_dates(mission.school_year).holds(mission.start), (today, role)
        assert mission.school_year in (in_progress, previous_school_year(in_progress)), (today, role)
        if 3 <= today.month <= 8:
            assert mission.school_year == in_progress, (today, role)
    dates = {role: mission.follow_up for role, mission in found.items()}
    assert any(today - timedelta(days=7) <= day < today for day in dates[FOLLOW_UP_DUE].openings)
    assert found[FOLLOW_UP_DUE].end >= today + timedelta(days=30)
    assert any(today - timedelta(days=25) <= day <= today - timedelta(days=11)
               for day in dates[FOLLOW_UP_OVERDUE].openings)
    assert dates[MID_MISSION_REVIEW].mid_mission < today < dates[MID_MISSION_REVIEW].report
    assert dates[MISSION_ENDING].report < today and found[MISSION_ENDING].end >= today - timedelta(days=25)
    assert dates[CERTIFICATE].report + timedelta(days=10) < today and found[CERTIFICATE].end < today
    assert found[ENDED_EARLY].start < found[ENDED_EARLY].early_end < today < found[ENDED_EARLY].end
    assert found[GOING_ON].start <= today - timedelta(days=60) and found[GOING_ON].end >= today + timedelta(days=60)
    assert found[JUST_STARTED].school_year == in_progress


@pytest.mark.parametrize("today", [date(2026, month, day) for month in range(9, 13) for day in (1, 15)]
                         + [date(2027, month, day) for month in range(1, 9) for day in (1, 15)] + [date(2028, 2, 29)])
def test_the_missions_of_the_story_show_every_moment_of_a_follow_up_on_any_day(today):
    check_missions(today)


@pytest.mark.slow
def test_every_day_of_a_year_has_a_mission_for_each_moment():
    for today in every_day(date(2027, 9, 1), date(2028, 8, 31)):
        check_missions(today)


def test_the_campaign_in_preparation_is_open_with_its_deadline_ahead_and_past_ones_closed_after_theirs():
    for today in every_day(date(2026, 9, 1), date(2027, 8, 31), step=7):
        preparation = preparation_dates(today)
        assert preparation.school_year > school_year_of(today)
        assert preparation.closed_at is None and preparation.opened_at.date() < today
        assert preparation.submission_deadline >= today + timedelta(days=30)
        assert preparation.submission_deadline < preparation.earliest_start <= preparation.latest_start
        past = past_dates(school_year_of(today))
        assert past.opened_at.date() < past.submission_deadline < past.closed_at.date() < preparation.opened_at.date()


def test_training_sessions_fall_on_working_days_on_the_side_of_today_they_were_meant():
    today = date(2026, 12, 7)
    for offset in range(-40, 40):
        day = session_day(today, offset)
        assert day.weekday() < 5 and (day.month, day.day) != (11, 11)
        assert not date(2026, 12, 20) <= day <= date(2027, 1, 3)
        assert (day < today) == (offset < 0) and abs((day - today).days) >= abs(offset)


@pytest.fixture
def blank(db_engine):
    """A database with the processes deployed and nothing else: the story starts from there."""
    return deployed_database(db_engine)


@pytest.mark.slow
@pytest.mark.parametrize("now", SEASONS, ids=lambda moment: moment.strftime("%d-%m-%Y"))
def test_the_story_leaves_each_demo_account_its_step_to_play_today(blank, tmp_path, now):
    today = now.date()
    with blank() as session:
        assert story_can_start(session)
        lines: list[str] = []
        report = play_demo_story(session, tmp_path / "documents", now, say=lines.append)
        assert lines[0].startswith("Histoire de démonstration au ") and report.ready_tasks > 15
        assert not story_can_start(session)
        assert not session.scalar(select(func.count()).select_from(ProcessInstance)
                                  .where(ProcessInstance.status == "incident"))

        # Two campaigns at once: the one in progress closed to new projects, the one in preparation open.
        in_progress, preparation = campaign_in_progress(session, today), campaign_in_preparation(session, today)
        assert in_progress is not None and in_progress.closed_at is not None
        assert in_progress.submission_deadline < today
        assert preparation is not None and preparation.closed_at is None
        assert preparation.submission_deadline >= today

        # Steps 1 to 8: each account of the README's path finds its task in its inbox.
        for step, login, task, _what in DEMO_PATH:
            if task is not None:
                inbox = {row.spec_id for row, _instance, _school in actionable_tasks(session, principal_of(session, login))}
                assert task in inbox, (step, login, sorted(inbox))
        rennes = session.scalars(select(Establishment).where(Establishment.uai == "0350781J")).one()
        assert check_project_start(session, rennes, today).school_year == preparation.school_year
        pontivy = session.scalars(select(Establishment).where(Establishment.uai == "0561433D")).one()
        assert pontivy.siret is None
        assert not session.scalar(select(func.count()).select_from(ProcessInstance)
                                  .where(ProcessInstance.establishment_id == pontivy.id))
        prepared = session.scalars(select(ProcessInstance).where(ProcessInstance.campaign == preparation.school_year,
                                                                 ProcessInstance.process_id == "hosting_project"))
        assert len(list(prepared)) == len(PREPARATION)

        # Step 7: the follow-up due now was opened in the last week; the overdue one was reminded.
        follow_ups = session.scalars(select(TaskRow).where(TaskRow.state == "ready",
                                                           TaskRow.spec_id == "record_follow_up")).all()
        schools = {school.id: school.uai for school in session.scalars(select(Establishment))}
        rennes_follow_up = [row for row in follow_ups if row.establishment_id == rennes.id]
        assert rennes_follow_up and now - timedelta(days=8) <= rennes_follow_up[0].created_at <= now
        assert any(now - timedelta(days=26) <= row.created_at <= now - timedelta(days=10) for row in follow_ups
                   if schools[row.establishment_id] == "0291652N")
        reminders = session.scalars(select(Notification).where(Notification.subject.like("Suivi mensuel en retard%"),
                                                                Notification.created_at >= now - timedelta(days=20)))
        assert {n.recipient for n in reminders} >= {"tuteur.brest@example.org", "referent.brest@example.org"}
        missions_by_status = {status: list(session.scalars(select(VolunteerMission)
                                                           .where(VolunteerMission.status == status)))
                              for status in ("in_progress", "completed", "terminated")}
        terminated = missions_by_status["terminated"]
        assert [m.ended_on for m in terminated] == [today - timedelta(days=10)]
        completed = missions_by_status["completed"]
        assert completed and all(now - timedelta(days=70) <= datetime.combine(m.ended_on, now.time()) < now
                                 for m in completed)
        assert session.scalar(select(func.count()).select_from(Document).where(Document.kind == "certificate")) == 1
        assert len(missions_by_status["in_progress"]) == len(ROLE_SCHOOLS) - 2

        # Timers: every one due before now has fired; each dossier waiting on one sees it come within weeks.
        assert not session.scalar(select(func.count()).select_from(Timer).where(Timer.due_at < now))
        next_due = {instance_id: due for instance_id, due in session.execute(
            select(Timer.instance_id, func.min(Timer.due_at)).group_by(Timer.instance_id))}
        assert rennes_follow_up[0].instance_id in next_due
        assert all(now < due <= now + timedelta(days=45) for due in next_due.values()), next_due

        # Step 8: a session closed with its attendance, one past to record, two coming; the gaps are listed.
        sessions = list(session.scalars(select(TrainingSession).order_by(TrainingSession.session_date)))
        assert [(s.session_date < today, s.status) for s in sessions] == [
            (True, "closed"), (True, "open"), (False, "open"), (False, "open")]
        assert all(r.attended for r in sessions[0].registrations) and sessions[0].registrations
        assert sessions[1].registrations and all(r.attended is None for r in sessions[1].registrations)
        tracking = training_tracking(session, principal_of(session, "gestionnaire.udogec35"))
        assert any(record.missing for record in tracking["volunteers"])
        assert all(record.missing for record in tracking["tutors"])


@pytest.mark.slow
def test_flask_setup_plays_the_story_once_and_keeps_what_users_did(tmp_path):
    from webapp import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "STORAGE_DIR": tmp_path / "documents",
                      "SECRET_KEY": "test"})
    try:
        runner = app.test_cli_runner()
        with app.app_context():
            first = runner.invoke(args=["setup"])
        assert first.exit_code == 0, first.output
        assert "Histoire de démonstration au" in first.output and "étape 8 : gestionnaire.udogec35" in first.output
        with app.extensions["db_sessions"]() as session:
            dossiers = session.scalar(select(func.count()).select_from(ProcessInstance))
        with app.app_context():
            second = runner.invoke(args=["setup"])
        assert second.exit_code == 0, second.output
        assert "n'est pas rejouée" in second.output
        with app.extensions["db_sessions"]() as session:
            assert session.scalar(select(func.count()).select_from(ProcessInstance)) == dossiers
    finally:
        app.extensions["db_engine"].dispose()
