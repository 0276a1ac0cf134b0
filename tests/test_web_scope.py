"""Users outside an instance's establishment or territory neither see nor complete its tasks."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.models import Establishment, ProcessInstance, TaskRow

from conftest import SAMPLES, as_form, principal_of
from test_web_campaign import inbox_tasks


@pytest.fixture
def project(runtime, session):
    """A Rennes project waiting for its Udogec's review."""
    rennes = session.scalar(select(Establishment).where(Establishment.uai == "0350781J"))
    instance = runtime.start("hosting_project", principal_of(session, "referent.rennes"), establishment=rennes,
                             campaign="2027-2028")
    design = session.scalar(select(TaskRow).where(TaskRow.instance_id == instance.id))
    runtime.complete(design.id, principal_of(session, "referent.rennes"), SAMPLES["design_project"])
    review = session.scalar(select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready"))
    return instance, review


@pytest.mark.parametrize("login", ["gestionnaire.udogec29", "gestionnaire.urogec", "referent.brest", "tuteur.rennes"])
def test_outsiders_cannot_open_or_complete_the_review(browser, project, login, session):
    instance, review = project
    browser.login(login)
    assert review.id not in [task_id for task_id, _ in inbox_tasks(browser)]
    assert browser.client.get(f"/taches/{review.id}").status_code == 403
    response = browser.post_form(f"/taches/{review.id}", as_form(SAMPLES["review_project"]), page="/")
    assert response.status_code == 403
    session.refresh(review)
    assert review.state == "ready"


@pytest.mark.parametrize("login", ["gestionnaire.udogec29", "referent.brest", "referent.paris"])
def test_outsiders_cannot_see_the_instance(browser, project, login):
    instance, _review = project
    browser.login(login)
    outside, missing = browser.client.get(f"/dossiers/{instance.id}"), browser.client.get("/dossiers/999999")
    # Another school's dossier answers exactly as a missing one: its number reveals nothing.
    assert outside.status_code == missing.status_code == 404 and without_token(outside) == without_token(missing)
    assert instance.title not in browser.client.get("/dossiers/").get_data(as_text=True)


@pytest.mark.parametrize("login", ["gestionnaire.udogec35", "gestionnaire.urogec", "gestionnaire.fnogec", "pilote",
                                   "referent.rennes", "tuteur.rennes"])
def test_people_in_scope_see_the_instance(browser, project, login):
    instance, _review = project
    browser.login(login)
    assert browser.client.get(f"/dossiers/{instance.id}").status_code == 200


def test_the_reviewing_udogec_sees_and_completes_it(browser, project, session):
    instance, review = project
    browser.login("gestionnaire.udogec35")
    assert [task_id for task_id, _ in inbox_tasks(browser)] == [review.id]
    response = browser.post_form(f"/taches/{review.id}", as_form(SAMPLES["review_project"]))
    assert response.status_code == 302
    session.refresh(review)
    assert review.state == "completed"


def test_unknown_task_is_404_and_anonymous_is_sent_to_login(client, browser):
    assert client.get("/taches/00000000-0000-0000-0000-000000000000").status_code == 302
    browser.login("referent.rennes")
    assert browser.client.get("/taches/00000000-0000-0000-0000-000000000000").status_code == 404
    assert browser.client.get("/dossiers/999999").status_code == 404


def test_referent_cannot_start_another_schools_project(browser, session):
    brest = session.scalar(select(Establishment.id).where(Establishment.uai == "0291652N"))
    browser.login("referent.rennes")
    response = browser.post_form("/dossiers/demarrer/hosting_project", {"establishment_id": brest}, page="/")
    assert response.status_code == 403
    assert session.scalar(select(ProcessInstance)) is None


def test_forms_without_csrf_token_are_refused(browser, project):
    _instance, review = project
    browser.login("gestionnaire.udogec35")
    response = browser.client.post(f"/taches/{review.id}", data=as_form(SAMPLES["review_project"]))
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)


def test_wrong_password_is_refused_in_french(browser):
    response = browser.login("referent.rennes", "mauvais")
    assert response.status_code == 401
    assert "Identifiant ou mot de passe incorrect." in response.get_data(as_text=True)


def without_token(response) -> str:
    """A page without its CSRF token, which changes with the second it is made."""
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))
