"""The civic and citizen training (FCC): at least two days, half of them in the first three months of the mission."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from engine.campaign.training_tracking import training_tracking
from engine.campaign.trainings import record_attendance, register
from engine.models import Structure
from handlers.training import civic_training_problems, days_fr

from conftest import principal_of
from test_processes import ready, sample
from test_trainings import AFTER, BEFORE, plan, volunteers  # noqa: F401 (fixture)

START = date(2027, 10, 1)
# Three months after 1 October: the part due early is attended by 31 December.
DEADLINE = date(2028, 1, 1)
SHORT = "Trop courte : 1,5 jour suivi sur 2 jours au moins."
LATE = ("Tardive : {} avant le 1er janvier 2028, au lieu d'au moins 1 jour dans les 3 premiers mois de la "
        "mission.")


@pytest.mark.parametrize(("attended", "short"), [
    ([], False),  # nothing attended: the training is missing, not short
    ([(date(2027, 11, 18), 1.5)], True),
    ([(date(2027, 11, 18), 2)], False),
    ([(date(2027, 11, 18), 1), (date(2028, 3, 2), 0.5)], True),
    ([(date(2027, 11, 18), 1), (date(2028, 3, 2), 1)], False),
])
def test_the_civic_training_lasts_two_days_at_least(attended, short):
    assert (SHORT in civic_training_problems(START, attended, date(2027, 12, 1))) is short


@pytest.mark.parametrize(("attended", "early"), [
    ([(date(2027, 12, 31), 1), (date(2028, 2, 1), 1)], None),
    ([(date(2027, 12, 31), 0.5), (date(2028, 2, 1), 1.5)], "0,5 jour suivi"),
    ([(date(2028, 1, 1), 2)], "0 jour suivi"),
])
def test_half_of_it_falls_in_the_first_three_months(attended, early):
    problems = civic_training_problems(START, attended, DEADLINE)
    assert problems == ([LATE.format(early)] if early else [])


@pytest.mark.parametrize(("today", "late"), [(DEADLINE - timedelta(days=1), False), (DEADLINE, True)])
def test_lateness_is_only_flagged_once_the_first_months_are_over(today, late):
    assert bool(civic_training_problems(START, [], today)) is late


def test_days_are_written_in_french():
    assert [days_fr(d) for d in (0.5, 1, 1.5, 2, 2.5)] == ["0,5 jour", "1 jour", "1,5 jour", "2 jours", "2,5 jours"]


def planned_form(runtime, session):
    """A training instance waiting for its plan, and the plan's form as served."""
    organiser = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    instance = runtime.start("training", principal_of(session, "gestionnaire.udogec35"), structure=organiser)
    (row,) = ready(session, instance.id, "plan_training")
    waiting = runtime.ready_task(row.id, principal_of(session, "gestionnaire.udogec35"))
    return waiting, runtime.task_form(waiting)


@pytest.mark.parametrize(("days", "message"), [
    (0.49, "Une session dure de 0,5 jour à 10 jours."),
    (0.5, None), (10, None),
    (10.5, "Une session dure de 0,5 jour à 10 jours."),
    (1.25, "La durée se compte en demi-journées : 0,5 ; 1 ; 1,5 ; 2…"),
])
def test_a_session_lasts_half_days_within_limits(runtime, session, days, message):
    waiting, form = planned_form(runtime, session)
    field = form.field_named("duration_days")
    assert (field.minimum, field.maximum, field.default) == (0.5, 10, 1)
    errors = runtime.validate(waiting, sample("plan_training", duration_days=days))
    assert errors.get("duration_days") == ([message] if message else None)


def test_the_follow_up_flags_a_short_or_late_civic_training(runtime, session, volunteers, browser):  # noqa: F811
    training, _ = plan(runtime, session, duration_days=1.5)
    assert training.duration_days == 1.5
    manager = principal_of(session, "gestionnaire.udogec35")
    register(session, manager, training, BEFORE, mission=volunteers[0])
    record_attendance(session, manager, training, {training.registrations[0].id: True}, AFTER)
    before = {r.name: r.civic_problems for r in training_tracking(session, manager, DEADLINE - timedelta(days=1))
              ["volunteers"]}
    assert before == {"Léa Martin": [SHORT], "Hugo Martin": [], "Inès Martin": []}
    after = {r.name: r.civic_problems for r in training_tracking(session, manager, DEADLINE)["volunteers"]}
    assert after == {"Léa Martin": [SHORT], "Hugo Martin": [LATE.format("0 jour suivi")],
                     "Inès Martin": [LATE.format("0 jour suivi")]}
    browser.login("gestionnaire.udogec35")
    page = browser.client.get("/formations/suivi?manquantes=1").get_data(as_text=True)
    assert SHORT in page and "Léa Martin" in page


def test_a_session_planned_without_a_length_lasts_one_day(runtime, session):
    training, _ = plan(runtime, session)
    assert training.duration_days == 1
