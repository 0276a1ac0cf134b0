"""The whole campaign clicked through the web app, each step by its role."""
from __future__ import annotations

import html
import re
from datetime import datetime

from sqlalchemy import select

from engine.models import Document, ProcessInstance

from conftest import SAMPLES, as_form
from follow_up_support import run_worker

TASK_LINK = re.compile(r'<a href="/taches/([0-9a-f-]{36})">([^<]+)</a>')


def inbox_tasks(browser) -> list[tuple[str, str]]:
    """(task id, title) of the tasks listed in the inbox's table (« À faire maintenant » links one per kind)."""
    page = browser.client.get("/")
    assert page.status_code == 200
    table = page.get_data(as_text=True).partition('id="titre-taches"')[2]
    return [(task_id, html.unescape(title)) for task_id, title in TASK_LINK.findall(table)]


def do_task(browser, login: str, title: str, data: dict) -> None:
    """Log in as `login`, open the task titled `title` from the inbox, submit it, log out."""
    browser.login(login)
    matches = [task_id for task_id, shown in inbox_tasks(browser) if shown == title]
    assert matches, f"{login} ne voit pas « {title} » dans sa boîte : {inbox_tasks(browser)}"
    page = browser.client.get(f"/taches/{matches[0]}")
    assert page.status_code == 200
    response = browser.post_form(f"/taches/{matches[0]}", as_form(data))
    if response.status_code == 200 and 'name="confirmation" value="oui"' in response.get_data(as_text=True):
        # An irreversible choice (a refusal, a confirmed contract) is confirmed on a page of its own.
        response = browser.post_form(f"/taches/{matches[0]}", {**as_form(data), "confirmation": "oui"})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert "est enregistré" in browser.client.get("/").get_data(as_text=True)
    browser.logout()


def start_project(browser, login: str, establishment_id: int):
    """The référent starts the project from the home page button."""
    browser.login(login)
    response = browser.post_form("/dossiers/demarrer/hosting_project", {"establishment_id": establishment_id}, page="/")
    assert response.status_code == 302 and "/taches/" in response.headers["Location"]
    browser.logout()
    return response.headers["Location"]


def establishment_id(session, uai: str) -> int:
    from engine.models import Establishment

    return session.scalar(select(Establishment.id).where(Establishment.uai == uai))


def test_full_campaign_through_the_browser(browser, session, sessions, tmp_path):
    start_project(browser, "referent.rennes", establishment_id(session, "0350781J"))
    do_task(browser, "referent.rennes", "Concevoir et déposer le projet d'accueil", SAMPLES["design_project"])
    do_task(browser, "gestionnaire.udogec35", "Instruire le projet d'accueil", SAMPLES["review_project"])
    do_task(browser, "referent.rennes", "Publier l'offre sur service-civique.gouv.fr", SAMPLES["publish_offer"])
    do_task(browser, "referent.rennes", "Proposer un candidat", SAMPLES["select_volunteer"])
    do_task(browser, "tuteur.rennes", "Donner son avis sur le candidat", SAMPLES["confirm_selection"])
    do_task(browser, "referent.rennes", "Constituer le dossier du volontaire", SAMPLES["volunteer_file"])
    do_task(browser, "gestionnaire.udogec35", "Établir les termes du contrat", SAMPLES["draw_up_contract"])
    do_task(browser, "referent.rennes", "Déposer le contrat signé", SAMPLES["upload_signed_contract"])
    do_task(browser, "gestionnaire.udogec35", "Confirmer le contrat signé", SAMPLES["confirm_contract"])
    # Late May 2028: the worker has opened every monthly follow-up and the mid-mission review, then the report.
    run_worker(sessions, tmp_path, datetime(2028, 5, 20, 10, 0), session)
    do_task(browser, "tuteur.rennes", "Consigner le suivi mensuel", SAMPLES["record_follow_up"])
    do_task(browser, "referent.rennes", "Faire le point de mi-mission", SAMPLES["mid_mission_review"])
    run_worker(sessions, tmp_path, datetime(2028, 5, 20, 10, 0), session)
    do_task(browser, "cotuteur.rennes", "Rédiger le bilan de fin de mission", SAMPLES["end_of_mission_report"])

    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.process_id == "hosting_project"))
    assert instance.status == "completed"

    browser.login("gestionnaire.udogec35")
    response = browser.post_form("/dossiers/demarrer/training", {"structure": "UDOGEC-35"}, page="/")
    assert response.status_code == 302
    browser.logout()
    do_task(browser, "gestionnaire.udogec35", "Planifier la session de formation", SAMPLES["plan_training"])
    do_task(browser, "gestionnaire.udogec35", "Relever les présences et clore la session", SAMPLES["record_attendance"])
    training = session.scalar(select(ProcessInstance).where(ProcessInstance.process_id == "training"))
    session.refresh(training)
    assert training.status == "completed"

    browser.login("referent.rennes")
    page = browser.client.get(f"/dossiers/{instance.id}").get_data(as_text=True)
    assert "Terminé" in page and "Anne Le Goff" in page and "Aide aux devoirs" in page
    document = session.scalar(select(Document).where(Document.instance_id == instance.id, Document.kind == "contract"))
    download = browser.client.get(f"/documents/{document.id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert download.headers["Content-Type"] == "application/pdf"
    download.close()


def test_form_errors_are_shown_in_french_and_keep_the_input(browser, session):
    location = start_project(browser, "referent.rennes", establishment_id(session, "0350781J"))
    browser.login("referent.rennes")
    data = as_form({**SAMPLES["design_project"], "weekly_hours": 60, "desired_start_date": "31/02/2027"})
    data.pop("title")
    response = browser.post_form(location, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in page
    assert "La durée hebdomadaire est comprise entre 24 et 48 heures" in html.unescape(page)
    assert "Date invalide" in page
    assert SAMPLES["design_project"]["description"] in html.unescape(page), "what was typed stays in the form"
    assert 'aria-invalid="true"' in page
    assert [title for _id, title in inbox_tasks(browser)] == ["Concevoir et déposer le projet d'accueil"]


def test_incomplete_school_is_told_what_is_missing(browser, session):
    location = start_project(browser, "referent.pontivy", establishment_id(session, "0561433D"))
    browser.login("referent.pontivy")
    home = html.unescape(browser.client.get("/").get_data(as_text=True))
    assert "Dossier de l'établissement incomplet" in home and "SIRET de l'OGEC : non renseigné" in home
    response = browser.post_form(location, as_form(SAMPLES["design_project"]))
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Le dossier de l'établissement est incomplet" in page and "support@isidoor.org" in page


def test_changes_requested_reach_the_referent_with_the_comment(browser, session):
    start_project(browser, "referent.rennes", establishment_id(session, "0350781J"))
    do_task(browser, "referent.rennes", "Concevoir et déposer le projet d'accueil", SAMPLES["design_project"])
    do_task(browser, "gestionnaire.udogec35", "Instruire le projet d'accueil",
            {"decision": "changes", "comment": "Merci de préciser le rôle du tuteur."})
    browser.login("referent.rennes")
    (task_id, _title), = inbox_tasks(browser)
    page = html.unescape(browser.client.get(f"/taches/{task_id}").get_data(as_text=True))
    assert "Merci de préciser le rôle du tuteur." in page
    assert SAMPLES["design_project"]["title"] in page


def test_refused_project_ends(browser, session):
    start_project(browser, "referent.rennes", establishment_id(session, "0350781J"))
    do_task(browser, "referent.rennes", "Concevoir et déposer le projet d'accueil", SAMPLES["design_project"])
    do_task(browser, "gestionnaire.udogec35", "Instruire le projet d'accueil",
            {"decision": "refuse", "comment": "Mission de substitution à un emploi."})
    instance = session.scalar(select(ProcessInstance))
    session.refresh(instance)
    assert instance.status == "refused"
    browser.login("referent.rennes")
    assert inbox_tasks(browser) == []
    assert "Refusé" in browser.client.get(f"/dossiers/{instance.id}").get_data(as_text=True)
