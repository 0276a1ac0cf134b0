"""Trainings (step 8): invitations, registrations within capacity, attendance, mandatory trainings tracked."""
from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import select

from engine.access import Forbidden
from engine.campaign.missions import mandatory_status
from engine.campaign.training_tracking import training_tracking
from engine.campaign.trainings import (
    RegistrationRefused,
    record_attendance,
    register,
    unregister,
    visible_registrations,
    visible_sessions,
)
from engine.db import make_session_factory
from engine.models import Notification, Person, Structure, TrainingRegistration, TrainingSession, VolunteerMission
from engine.runtime.runtime import FormInvalid
from engine.training_access import can_see_registration

from conftest import principal_of
from follow_up_support import to_follow_up
from test_processes import do, ready, sample

BEFORE = datetime(2027, 11, 1, 9, 0)
AFTER = datetime(2027, 11, 19, 9, 0)


def plan(runtime, session, structure: str = "UDOGEC-35", login: str = "gestionnaire.udogec35", **changes):
    """A session planned through training.bpmn; return its row and its instance."""
    organiser = session.scalar(select(Structure).where(Structure.code == structure))
    instance = runtime.start("training", principal_of(session, login), structure=organiser)
    do(runtime, session, instance.id, login, "plan_training", sample("plan_training", **changes))
    return session.scalar(select(TrainingSession).where(TrainingSession.instance_id == instance.id)), instance


def mission_of(session, instance) -> VolunteerMission:
    return session.scalar(select(VolunteerMission).where(VolunteerMission.instance_id == instance.id))


def person(session, login: str) -> Person:
    return session.scalar(select(Person).where(Person.login == login))


@pytest.fixture
def volunteers(runtime, session):
    """Three volunteers of Rennes under follow-up."""
    return [mission_of(session, to_follow_up(runtime, session, first_name=name)) for name in ("Léa", "Hugo", "Inès")]


def test_volunteers_under_contract_of_the_territory_are_invited(runtime, session, volunteers):
    training, instance = plan(runtime, session)
    assert (training.kind, training.capacity, training.audience, training.status) == ("fcc", 30, "volunteers", "open")
    invited = session.scalars(select(Notification).where(Notification.instance_id == instance.id)).all()
    assert sorted(n.recipient for n in invited) == ["lea.martin@example.fr"] * 3
    assert invited[0].subject == "Invitation : Formation civique et citoyenne – automne 2027 le 18 novembre 2027"
    assert invited[0].link == f"/formations/{training.id}"
    elsewhere, _ = plan(runtime, session, "UDOGEC-29", "gestionnaire.udogec29")
    assert session.scalars(select(Notification).where(Notification.instance_id == elsewhere.instance_id)).all() == []


def test_tuteurs_of_the_territory_are_invited_to_tutor_training(runtime, session):
    _training, instance = plan(runtime, session, "UROGEC-BRETAGNE", "gestionnaire.urogec", kind="tutor_training",
                               audience="tutors", department="29")
    invited = sorted(session.scalars(select(Notification.recipient).where(Notification.instance_id == instance.id)))
    assert invited == ["cotuteur.brest@example.org", "tuteur.brest@example.org"]


@pytest.mark.parametrize("changes, field, message", [
    ({"session_date": "2027-03-01"}, "session_date", "déjà passée"),
    ({"kind": "tutor_training"}, "audience", "s'adresse aux tuteurs"),
    ({"department": "29"}, "department", "n'appartient pas au territoire"),
])
def test_a_session_is_planned_within_the_rules(runtime, session, changes, field, message):
    organiser = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    instance = runtime.start("training", principal_of(session, "gestionnaire.udogec35"), structure=organiser)
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "gestionnaire.udogec35", "plan_training", sample("plan_training", **changes))
    assert message in invalid.value.errors[field][0]


def test_registrations_respect_capacity(runtime, session, volunteers):
    training, _ = plan(runtime, session, capacity=2)
    tuteur = principal_of(session, "tuteur.rennes")
    first, second, third = volunteers
    register(session, tuteur, training, BEFORE, mission=first)
    register(session, principal_of(session, "referent.rennes"), training, BEFORE, mission=second)
    with pytest.raises(RegistrationRefused, match="complète \\(2 places\\)"):
        register(session, tuteur, training, BEFORE, mission=third)
    assert training.registered == 2 and training.places_left == 0
    unregister(session, tuteur, training, session.scalar(select(TrainingRegistration)
                                                         .where(TrainingRegistration.mission_id == first.id)))
    register(session, tuteur, training, BEFORE, mission=third)
    assert sorted(r.name for r in training.registrations) == ["Hugo Martin", "Inès Martin"]


def test_capacity_holds_when_everyone_registers_at_once(runtime, session, volunteers, db_engine):
    training, _ = plan(runtime, session, capacity=1)
    factory = make_session_factory(db_engine)
    outcomes = []
    start = threading.Barrier(len(volunteers))

    def attempt(mission_id: int) -> None:
        with factory() as own:
            mine = own.get(TrainingSession, training.id)
            start.wait()
            try:
                register(own, principal_of(own, "tuteur.rennes"), mine, BEFORE, mission=own.get(VolunteerMission,
                                                                                                mission_id))
                outcomes.append("inscrit")
            except RegistrationRefused:
                outcomes.append("complet")

    threads = [threading.Thread(target=attempt, args=(m.id,)) for m in volunteers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session.expire_all()
    assert sorted(outcomes) == ["complet", "complet", "inscrit"]
    assert session.get(TrainingSession, training.id).registered == 1
    assert len(session.scalars(select(TrainingRegistration)).all()) == 1


def test_who_may_register_whom(runtime, session, volunteers):
    training, _ = plan(runtime, session)
    for outsider in ("tuteur.brest", "gestionnaire.udogec29"):
        with pytest.raises(Forbidden):
            register(session, principal_of(session, outsider), training, BEFORE, mission=volunteers[0])
    register(session, principal_of(session, "gestionnaire.udogec35"), training, BEFORE, mission=volunteers[0])
    with pytest.raises(Forbidden):
        register(session, principal_of(session, "tuteur.rennes"), training, BEFORE, mission=volunteers[0])
    tutors, _ = plan(runtime, session, kind="tutor_training", audience="tutors")
    register(session, principal_of(session, "tuteur.rennes"), tutors, BEFORE, person=person(session, "tuteur.rennes"))
    for login in ("referent.rennes", "tuteur.brest"):
        with pytest.raises(Forbidden):
            register(session, principal_of(session, login), tutors, BEFORE, person=person(session, login))
    with pytest.raises(Forbidden):
        register(session, principal_of(session, "tuteur.rennes"), tutors, BEFORE,
                 person=person(session, "cotuteur.rennes"))
    assert [r.name for r in tutors.registrations] == ["Thomas Riou"]


def test_who_sees_which_registration(runtime, session, volunteers):
    training, _ = plan(runtime, session)
    organiser = principal_of(session, "gestionnaire.udogec35")
    for mission in volunteers[:2]:
        register(session, organiser, training, BEFORE, mission=mission)
    tutors, _ = plan(runtime, session, kind="tutor_training", audience="tutors")
    register(session, organiser, tutors, BEFORE, person=person(session, "tuteur.rennes"))
    register(session, organiser, tutors, BEFORE, person=person(session, "cotuteur.rennes"))
    seen = {login: ([r.name for r in visible_registrations(session, principal_of(session, login), training)],
                    [r.name for r in visible_registrations(session, principal_of(session, login), tutors)])
            for login in ("gestionnaire.udogec35", "tuteur.rennes", "referent.brest", "gestionnaire.urogec", "pilote")}
    assert seen == {
        "gestionnaire.udogec35": (["Hugo Martin", "Léa Martin"], ["Claire Morvan", "Thomas Riou"]),
        # Staff of Rennes see its volunteers, and a tuteur their own registration only.
        "tuteur.rennes": (["Hugo Martin", "Léa Martin"], ["Thomas Riou"]),
        "referent.brest": ([], []), "gestionnaire.urogec": ([], []), "pilote": ([], [])}
    # The SQL filter and the check on one registration say the same, for anyone.
    for login in seen:
        me = principal_of(session, login)
        for listed in (training, tutors):
            visible = {r.id for r in visible_registrations(session, me, listed)}
            for registration in listed.registrations:
                mission = session.get(VolunteerMission, registration.mission_id) if registration.mission_id else None
                school = mission.establishment_id if mission is not None else None
                assert can_see_registration(me, listed.structure_code, registration, school) == (
                    registration.id in visible), (login, registration.name)


def test_sessions_are_seen_in_their_territory(runtime, session):
    rennes, _ = plan(runtime, session)
    brest, _ = plan(runtime, session, "UDOGEC-29", "gestionnaire.udogec29")
    seen = {login: {t.id for t in visible_sessions(session, principal_of(session, login))}
            for login in ("tuteur.rennes", "referent.brest", "gestionnaire.urogec", "gestionnaire.udogec35",
                          "referent.paris", "pilote")}
    assert seen == {"tuteur.rennes": {rennes.id}, "referent.brest": {brest.id},
                    "gestionnaire.urogec": {rennes.id, brest.id}, "gestionnaire.udogec35": {rennes.id},
                    "referent.paris": set(), "pilote": {rennes.id, brest.id}}


def test_attendance_makes_a_mandatory_training_done(runtime, session, volunteers):
    training, instance = plan(runtime, session)
    manager = principal_of(session, "gestionnaire.udogec35")
    lea, hugo, _ines = volunteers
    for mission in (lea, hugo):
        register(session, manager, training, BEFORE, mission=mission)
    with pytest.raises(RegistrationRefused, match="à partir du jour de la session"):
        record_attendance(session, manager, training, {}, BEFORE)
    with pytest.raises(Forbidden):
        record_attendance(session, principal_of(session, "tuteur.rennes"), training, {}, AFTER)
    (first, second) = sorted(training.registrations, key=lambda r: r.name)
    record_attendance(session, manager, training, {first.id: False}, AFTER)
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "gestionnaire.udogec35", "record_attendance", sample("record_attendance"))
    assert "Léa Martin" in invalid.value.errors["__form__"][0]

    record_attendance(session, manager, training, {second.id: True}, AFTER)
    do(runtime, session, instance.id, "gestionnaire.udogec35", "record_attendance", sample("record_attendance"))
    session.refresh(instance)
    session.refresh(training)
    assert (instance.status, training.status) == ("completed", "closed")
    assert [(t["kind"], t["done"], t["date"]) for t in mandatory_status(session, lea)] == [
        ("fcc", True, "2027-11-18"), ("psc1", False, None)]
    assert not any(t["done"] for t in mandatory_status(session, hugo)), "absent: still to do"
    with pytest.raises(RegistrationRefused, match="close"):
        record_attendance(session, manager, training, {first.id: True}, AFTER)


def test_the_gestionnaire_sees_who_misses_what(runtime, session, volunteers):
    training, _ = plan(runtime, session)
    manager = principal_of(session, "gestionnaire.udogec35")
    register(session, manager, training, BEFORE, mission=volunteers[0])
    record_attendance(session, manager, training, {training.registrations[0].id: True}, AFTER)
    tracked = training_tracking(session, manager)
    missing = {record.name: record.missing for record in tracked["volunteers"]}
    assert missing == {"Léa Martin": ["PSC (Prévention et secours civiques)"],
                       "Hugo Martin": ["Formation civique et citoyenne", "PSC (Prévention et secours civiques)"],
                       "Inès Martin": ["Formation civique et citoyenne", "PSC (Prévention et secours civiques)"]}
    assert {r.name for r in tracked["tutors"]} == {"Thomas Riou", "Claire Morvan", "Julien Lemoine"}
    assert all(r.missing == ["Formation des tuteurs"] for r in tracked["tutors"])
    assert training_tracking(session, principal_of(session, "gestionnaire.udogec29"))["volunteers"] == []
    with pytest.raises(Forbidden):
        training_tracking(session, principal_of(session, "tuteur.rennes"))


def test_the_monthly_follow_up_shows_the_trainings_done_and_missing(runtime, session, sessions, tmp_path, volunteers):
    from follow_up_support import run_worker

    training, _ = plan(runtime, session)
    manager = principal_of(session, "gestionnaire.udogec35")
    register(session, manager, training, BEFORE, mission=volunteers[0])
    record_attendance(session, manager, training, {training.registrations[0].id: True}, AFTER)
    run_worker(sessions, tmp_path, datetime(2027, 12, 1, 10, 0), session)
    row = ready(session, volunteers[0].instance_id, "record_follow_up")[0]
    from engine.views.task_view import build_task_view

    waiting = runtime.ready_task(row.id, principal_of(session, "tuteur.rennes"))
    view = build_task_view(session, waiting.row, waiting.task, waiting.bundle)
    assert ("Formations obligatoires : Formation civique et citoyenne : suivie le 18 novembre 2027 ; "
            "PSC (Prévention et secours civiques) : à suivre.") in view.instructions


def test_an_interrupted_training_closes_its_session_and_withdraws_what_was_not_sent(runtime, session, volunteers):
    from engine.campaign.owned import WITHDRAWN
    from engine.ops.operations import InstanceOperations

    training, instance = plan(runtime, session)
    first, second, _third = volunteers
    register(session, principal_of(session, "tuteur.rennes"), training, BEFORE, mission=first)
    invitations = session.scalars(select(Notification).where(Notification.instance_id == instance.id)).all()
    assert invitations and all(n.sent_at is None for n in invitations), "the worker has not sent them yet"

    operations = InstanceOperations(session, runtime.settings, clock=runtime.clock)
    operations.terminate(instance, principal_of(session, "pilote"), "Formateur indisponible.")
    session.expire_all()
    training = session.get(TrainingSession, training.id)
    assert training.status == "cancelled"
    assert all(n.next_attempt_at is None and n.error == WITHDRAWN
               for n in session.scalars(select(Notification).where(Notification.id.in_([n.id for n in invitations]))))
    told = session.scalars(select(Notification).where(Notification.instance_id == instance.id,
                                                      Notification.subject.startswith("Session annulée"))).all()
    assert [(n.recipient, n.next_attempt_at is not None) for n in told] == [(first.email, True)]
    assert "Formateur indisponible." in told[0].body
    with pytest.raises(RegistrationRefused, match="closes"):
        register(session, principal_of(session, "tuteur.rennes"), training, BEFORE, mission=second)


def test_an_interrupted_hosting_project_ends_its_missions(runtime, session):
    from engine.ops.operations import InstanceOperations

    followed = to_follow_up(runtime, session)
    mission = mission_of(session, followed)
    assert mission.status == "in_progress"
    InstanceOperations(session, runtime.settings, clock=runtime.clock).terminate(
        followed, principal_of(session, "pilote"), "Établissement fermé.")
    session.expire_all()
    mission = session.get(VolunteerMission, mission.id)
    assert (mission.status, mission.termination_reason) == ("terminated", "Dossier interrompu : Établissement fermé.")
    assert mission.ended_on == runtime.clock().date()
