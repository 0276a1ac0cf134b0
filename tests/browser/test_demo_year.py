"""In Chromium, on the demo as `make run` seeds it today: steps 7 and 8 are played the same day as steps 1 to 6.

The story is played up to the real current time, as `flask setup` does, so these tests also show that the
demo works whatever the day of the year the suite runs.
"""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.demo.directory import load_demo_data
from engine.demo.story import play_demo_story
from engine.models import TrainingSession

from .conftest import Site, assert_accessible, choose, field, login, open_page
from conftest import deployed_database
from live_server import served_in_thread

pytestmark = pytest.mark.slow
SUBMIT = "Valider et transmettre"


@pytest.fixture(scope="module")
def demo_site(db_engine, database_url, tmp_path_factory):
    """The app on a database where the demo story was played up to now, as after `make run`."""
    from webapp import create_app

    sessions = deployed_database(db_engine)
    storage = tmp_path_factory.mktemp("demo-year") / "documents"
    with sessions() as session:
        play_demo_story(session, storage, datetime.now().replace(microsecond=0), say=lambda _line: None)
        load_demo_data(session)
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "STORAGE_DIR": storage,
                      "SECRET_KEY": "tests-demo-annee"})
    with served_in_thread(app) as url:
        yield Site(url, sessions, storage)
    app.extensions["db_engine"].dispose()


def as_person(chromium, site: Site, login_name: str) -> Page:
    """A page of its own (own cookies) logged in as `login_name`."""
    page = open_page(chromium, site)
    login(page, login_name)
    return page


def open_task(page: Page, title: str) -> None:
    """From the home page's task table, open the first task titled `title` and check its page for accessibility."""
    page.goto("/")
    page.locator("table.task-table").get_by_role("link", name=title, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    assert_accessible(page)


def test_step_7_the_tuteur_records_the_monthly_follow_up_due_today(chromium, demo_site):
    tuteur = as_person(chromium, demo_site, "tuteur.rennes")
    expect(tuteur.get_by_text("Prochaines échéances de vos dossiers")).to_be_visible()
    open_task(tuteur, "Consigner le suivi mensuel")
    field(tuteur, "Date de l'entretien").fill(date.today().isoformat())
    choose(tuteur, "L'entretien a-t-il eu lieu ?", "Oui")
    field(tuteur, "Activités du mois").fill("Aide aux devoirs et animation du foyer des élèves.")
    choose(tuteur, "Participation aux formations", "En cours")
    tuteur.get_by_role("button", name=SUBMIT).click()
    expect(tuteur.get_by_role("status").filter(has_text="« Consigner le suivi mensuel » est enregistré.")) \
        .to_be_visible()
    assert not tuteur.errors, tuteur.errors
    tuteur.context.close()


def test_step_7_the_dossier_says_what_comes_next(chromium, demo_site):
    referent = as_person(chromium, demo_site, "referent.brest")
    referent.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Dossiers").click()
    referent.get_by_role("link", name="Projet d'accueil — Lycée Sainte-Anne").first.click()
    expect(referent.get_by_role("heading", name="Ce qui vient ensuite")).to_be_visible()
    assert_accessible(referent)
    referent.context.close()


def test_step_8_the_gestionnaire_records_attendance_then_closes_the_session(chromium, demo_site):
    gestionnaire = as_person(chromium, demo_site, "gestionnaire.udogec35")
    open_task(gestionnaire, "Relever les présences et clore la session")
    gestionnaire.get_by_role("button", name=SUBMIT).click()
    # Closing is refused while someone's presence is not recorded: the page says where to record it.
    expect(gestionnaire.get_by_role("alert")).to_contain_text("Indiquez d'abord la présence ou l'absence")

    dossier = gestionnaire.get_by_role("navigation", name="Fil d'Ariane").get_by_role(
        "link", name=re.compile(r"^Session de formation")).get_attribute("href")
    with demo_site.sessions() as session:
        training = session.scalars(select(TrainingSession).where(
            TrainingSession.instance_id == int(dossier.rstrip("/").rsplit("/", 1)[1]))).one()
    gestionnaire.goto(f"/formations/{training.id}")
    radios = gestionnaire.locator("input[type=radio][value=present]")
    expect(radios.first).to_be_visible()
    for index in range(radios.count()):
        radios.nth(index).check()
    gestionnaire.get_by_role("button", name="Enregistrer les présences").click()
    assert_accessible(gestionnaire)
    gestionnaire.get_by_role("link", name="clore la session").click()
    gestionnaire.get_by_role("button", name=SUBMIT).click()
    expect(gestionnaire.get_by_role("status").filter(
        has_text="« Relever les présences et clore la session » est enregistré.")).to_be_visible()
    assert not gestionnaire.errors, gestionnaire.errors
    gestionnaire.context.close()
