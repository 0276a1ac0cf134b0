"""Follow-up, early termination, trainings and notifications through the web app."""
from __future__ import annotations

import html
import re
from datetime import date, datetime

from sqlalchemy import select

from engine.campaign.trainings import register
from engine.mail import Mailer
from engine.models import Notification, TrainingSession, VolunteerMission

from conftest import as_form, principal_of
from follow_up_support import run_worker, to_follow_up
from test_processes import do, sample
from test_web_campaign import inbox_tasks

FIRST_MONTH = datetime(2027, 11, 1, 10, 0)


def page(browser, path: str) -> str:
    response = browser.client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def test_monthly_follow_up_is_recorded_from_the_inbox(browser, runtime, session, sessions, tmp_path):
    to_follow_up(runtime, session)
    run_worker(sessions, tmp_path, FIRST_MONTH, session)
    browser.login("cotuteur.rennes")
    ((task_id, title),) = inbox_tasks(browser)
    assert title == "Consigner le suivi mensuel"
    assert "11 novembre 2027" in page(browser, "/"), "the inbox shows when the follow-up is due"
    form = page(browser, f"/taches/{task_id}")
    assert "Suivi mensuel de Léa Martin (place n° 1), ouvert le 1er novembre 2027." in form
    assert "Formation civique et citoyenne : à suivre ; PSC (Prévention et secours civiques) : à suivre." in form
    response = browser.post_form(f"/taches/{task_id}", as_form(sample("record_follow_up")))
    assert response.status_code == 302
    assert inbox_tasks(browser) == []


def test_referent_ends_a_mission_from_the_instance_page(browser, runtime, session, sessions, tmp_path):
    instance = to_follow_up(runtime, session)
    run_worker(sessions, tmp_path, FIRST_MONTH, session)
    end = f"/dossiers/{instance.id}/places/1/fin"
    browser.login("tuteur.rennes")
    assert "Mettre fin à la mission" not in page(browser, f"/dossiers/{instance.id}")
    assert browser.client.get(end).status_code == 403
    browser.logout()

    browser.login("referent.rennes")
    shown = page(browser, f"/dossiers/{instance.id}")
    assert "Missions des volontaires" in shown and f'href="{end}"' in shown
    invalid = browser.post_form(end, {"initiator": "school", "end_date": "31/02/2028", "reason": ""})
    text = html.unescape(invalid.get_data(as_text=True))
    assert invalid.status_code == 422 and "Date invalide" in text and "Ce champ est obligatoire." in text
    assert session.scalar(select(VolunteerMission.status)) == "in_progress"

    termination = {"initiator": "school", "end_date": "2027-11-30",
                   "reason": "Absences répétées malgré deux rappels écrits."}
    asked = browser.post_form(end, termination)
    text = html.unescape(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "Mettre fin à la mission de Léa Martin ?" in text
    assert "Absences répétées malgré deux rappels écrits." in text
    assert session.scalar(select(VolunteerMission.status)) == "in_progress", "nothing is done before confirming"
    done = browser.post_form(end, {**termination, "confirmation": "oui"})
    assert done.status_code == 302
    shown = page(browser, f"/dossiers/{instance.id}")
    assert "a pris fin" in shown and "Interrompue" in shown and "Absences répétées" in shown
    assert "Mettre fin à la mission" not in shown
    again = browser.client.get(end)
    assert again.status_code == 302, "a mission ended cannot be ended again"
    assert "n'est plus en cours" in page(browser, again.headers["Location"])
    browser.logout()
    browser.login("cotuteur.rennes")
    assert inbox_tasks(browser) == [], "the pending monthly follow-up is cancelled"


def plan_today(runtime, session, capacity: int = 2) -> TrainingSession:
    from engine.models import Structure

    organiser = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    instance = runtime.start("training", principal_of(session, "gestionnaire.udogec35"), structure=organiser)
    runtime.clock = datetime.now
    do(runtime, session, instance.id, "gestionnaire.udogec35", "plan_training",
       sample("plan_training", session_date=date.today().isoformat(), capacity=capacity))
    return session.scalar(select(TrainingSession).where(TrainingSession.instance_id == instance.id))


def test_trainings_pages_register_and_record_attendance(browser, runtime, session):
    lea = session.scalar(select(VolunteerMission).where(
        VolunteerMission.instance_id == to_follow_up(runtime, session).id))
    hugo = session.scalar(select(VolunteerMission).where(
        VolunteerMission.instance_id == to_follow_up(runtime, session, first_name="Hugo").id))
    training = plan_today(runtime, session, capacity=1)

    browser.login("tuteur.rennes")
    listing = page(browser, "/formations/")
    assert "Formation civique et citoyenne – automne 2027" in listing and "0 / 1" in listing
    shown = page(browser, f"/formations/{training.id}")
    assert "Léa Martin" in shown and "Hugo Martin" in shown
    assert browser.post_form(f"/formations/{training.id}/inscriptions", {"mission_id": lea.id},
                             page=f"/formations/{training.id}").status_code == 302
    shown = page(browser, f"/formations/{training.id}")
    assert "Inscription de Léa Martin à la session" in shown and "complet" in shown
    refused = browser.post_form(f"/formations/{training.id}/inscriptions", {"mission_id": hugo.id},
                                page=f"/formations/{training.id}")
    assert refused.status_code == 302
    assert "La session est complète (1 place) : plus aucune inscription n'est possible." in page(
        browser, f"/formations/{training.id}")
    browser.logout()

    browser.login("gestionnaire.udogec35")
    shown = page(browser, f"/formations/{training.id}")
    registration = session.scalar(select(TrainingSession).where(TrainingSession.id == training.id)).registrations[0]
    assert f'name="presence-{registration.id}"' in shown
    recorded = browser.post_form(f"/formations/{training.id}/presences", {f"presence-{registration.id}": "present"},
                                 page=f"/formations/{training.id}")
    assert recorded.status_code == 302
    shown = page(browser, f"/formations/{training.id}")
    assert "Présences enregistrées (1). Vous pouvez clore la session." in shown and "clore la session" in shown
    tracking = page(browser, "/formations/suivi?manquantes=1")
    assert "Hugo Martin" in tracking and "Thomas Riou" in tracking and "Manquante" in tracking
    assert "Suivie le" in page(browser, "/formations/suivi")
    browser.logout()

    browser.login("tuteur.brest")
    outside, missing = browser.client.get(f"/formations/{training.id}"), browser.client.get("/formations/999999")
    assert outside.status_code == missing.status_code == 404 and without_token(outside) == without_token(missing)
    assert browser.client.get("/formations/suivi").status_code == 403


def test_tuteur_registers_to_a_tutor_training(browser, runtime, session):
    training = plan_today(runtime, session)
    training.audience, training.kind = "tutors", "tutor_training"
    session.commit()
    browser.login("tuteur.rennes")
    assert "M'inscrire à cette session" in page(browser, f"/formations/{training.id}")
    browser.post_form(f"/formations/{training.id}/inscriptions", {}, page=f"/formations/{training.id}")
    shown = page(browser, f"/formations/{training.id}")
    assert "Inscription de Thomas Riou à la session" in shown and "M'inscrire à cette session" not in shown


def test_notifications_page_and_unread_count(browser, session):
    mailer = Mailer(session)
    mailer.send("referent.rennes@example.org", "Projet d'accueil accepté", "Bonjour,\n\nVotre projet est accepté.",
                link="/dossiers/1")
    mailer.send("referent.rennes@example.org", "Invitation : FCC", "Bonjour,")
    mailer.send("tuteur.rennes@example.org", "Autre", "Pour quelqu'un d'autre")
    session.commit()
    browser.login("referent.rennes")
    home = page(browser, "/")
    assert 'Notifications <span class="count">2<span class="visually-hidden"> non lues</span>' in home
    listing = page(browser, "/notifications/")
    assert "Projet d'accueil accepté" in listing and "Votre projet est accepté." in listing
    assert "Pour quelqu'un d'autre" not in listing and 'href="/dossiers/1"' in listing
    assert browser.post_form("/notifications/lues", {}, page="/notifications/").status_code == 302
    assert 'class="count"' not in page(browser, "/")
    assert session.scalar(select(Notification).where(Notification.subject == "Autre")).read_at is None
    assert browser.client.get("/notifications/courriels").status_code == 403
    browser.logout()
    browser.login("pilote")
    outbox = page(browser, "/notifications/courriels?statut=pending")
    assert "tuteur.rennes@example.org" in outbox and "En attente" in outbox


def test_registrations_of_other_schools_stay_private(browser, runtime, session):
    lea = session.scalar(select(VolunteerMission).where(
        VolunteerMission.instance_id == to_follow_up(runtime, session).id))
    training = plan_today(runtime, session)
    register(session, principal_of(session, "gestionnaire.udogec35"), training, datetime.now(), mission=lea)
    browser.login("tuteur.rennes")
    assert "Léa Martin" in page(browser, f"/formations/{training.id}")
    browser.logout()
    browser.login("gestionnaire.urogec")
    shown = page(browser, f"/formations/{training.id}")
    assert "Léa Martin" not in shown and "1 inscrit sur 2" in shown


def without_token(response) -> str:
    """A page without its CSRF token, which changes with the second it is made."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))
