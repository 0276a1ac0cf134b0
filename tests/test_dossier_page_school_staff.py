"""In Chromium, on the demo as `make run` seeds it today: a référent reads on the home page where each dossier of
their school stands, with the reason of a refusal or the changes asked for, and opens a short dossier page without
diagrams nor step ids; a gestionnaire still steers the same dossier with its diagram.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from browser.conftest import AXE_SCRIPT, Site, assert_accessible, login, open_page
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.demo.directory import load_demo_data
from engine.demo.story import play_demo_story
from engine.models import Establishment, ProcessInstance, TaskRow
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings
from handlers.formats import date_fr

from conftest import deployed_database, principal_of, require_node_package
from live_server import served_in_thread

pytestmark = pytest.mark.slow
REFUSAL = "Le projet confie au volontaire la surveillance de la cour : ce n'est pas une mission de Service Civique."
VANNES = "0561290Y"
# Well under what a long page would be: three diagrams and every step of the engine made one of 7,800 px.
SHORT_PAGE = 2000


@pytest.fixture(scope="module")
def demo_site(db_engine, database_url, tmp_path_factory):
    """The demo story played up to now, then the Urogec refusing the project of Vannes that waited for its review."""
    from webapp import create_app

    require_node_package(AXE_SCRIPT, "axe-core")
    sessions = deployed_database(db_engine)
    storage = tmp_path_factory.mktemp("statuses") / "documents"
    with sessions() as session:
        play_demo_story(session, storage, datetime.now().replace(microsecond=0), say=lambda _line: None)
        load_demo_data(session)
        vannes = session.scalar(select(Establishment.id).where(Establishment.uai == VANNES))
        review = session.scalar(select(TaskRow).join(ProcessInstance, ProcessInstance.id == TaskRow.instance_id)
                                .where(ProcessInstance.establishment_id == vannes, TaskRow.state == "ready",
                                       TaskRow.spec_id == "review_project"))
        ProcessRuntime(session, RuntimeSettings(Path(storage))).complete(
            review.id, principal_of(session, "gestionnaire.urogec"), {"decision": "refuse", "comment": REFUSAL})
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "STORAGE_DIR": storage,
                      "SECRET_KEY": "tests-statuts"})
    with served_in_thread(app) as url:
        yield Site(url, sessions, storage)
    app.extensions["db_engine"].dispose()


def as_person(chromium, site: Site, login_name: str) -> Page:
    """A page of its own (own cookies) logged in as `login_name`."""
    page = open_page(chromium, site)
    login(page, login_name)
    return page


def height(page: Page) -> int:
    """How tall the page is, in CSS pixels, at the width of a desk screen."""
    return page.evaluate("document.documentElement.scrollHeight")


def assert_plain(page: Page) -> None:
    """A school's dossier page: short, without diagrams, step ids nor operations, accessible."""
    expect(page.get_by_role("heading", name="Ce qui vient ensuite")).to_be_visible()
    expect(page.get_by_role("heading", name="Ce qui a été fait")).to_be_visible()
    text = page.locator("main").inner_text()
    for hidden in ("Diagramme", "Branchement exclusif", "check_school_file_task", "Piloter le dossier"):
        assert hidden not in text, hidden
    assert height(page) < SHORT_PAGE, (page.url, height(page))
    assert_accessible(page)
    assert not page.errors, page.errors


def test_a_refused_project_says_why_on_the_home_page_and_on_its_dossier(chromium, demo_site):
    referent = as_person(chromium, demo_site, "referent.vannes")
    sentence = f"Refusé par l'Urogec Bretagne le {date_fr(date.today())} : « {REFUSAL} »"
    todo = referent.get_by_role("region", name="À faire maintenant")
    expect(todo).to_contain_text("Où en est chacun")
    expect(todo).to_contain_text(sentence)
    card = referent.locator("article.card", has_text="Collège Sainte-Jeanne-d'Arc")
    expect(card).to_contain_text(sentence)
    card.get_by_role("link", name=re.compile("^Projet d'accueil ")).first.click()
    expect(referent.locator(".dossier-status")).to_have_text(f"Où en est le dossier : {sentence}")
    assert_plain(referent)
    referent.context.close()


def test_a_project_sent_back_says_what_to_change_and_leads_to_the_task(chromium, demo_site):
    referent = as_person(chromium, demo_site, "referent.paris16")
    card = referent.locator("article.card", has_text="Lycée Saint-Michel")
    expect(card).to_contain_text(re.compile(r"Modifications demandées par la Fnogec le .+ : « .+ » En attente du "
                                            r"référent pour concevoir et déposer le projet d'accueil"))
    card.get_by_role("link", name=re.compile("^Projet d'accueil ")).first.click()
    expect(referent.locator(".dossier-status")).to_contain_text("Modifications demandées par la Fnogec")
    assert_plain(referent)
    referent.get_by_role("region", name="Ce qui vient ensuite").get_by_role(
        "link", name="Concevoir et déposer le projet d'accueil").click()
    expect(referent.get_by_role("heading", level=1)).to_contain_text("Concevoir et déposer le projet d'accueil")
    referent.context.close()


def test_every_dossier_of_a_school_reads_the_same_in_the_list_and_on_its_page(chromium, demo_site):
    referent = as_person(chromium, demo_site, "referent.brest")
    referent.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Dossiers").click()
    rows = referent.locator("tbody tr")
    listed = [(row.get_by_role("link").get_attribute("href"), row.locator("td").nth(3).inner_text())
              for row in rows.all()]
    assert len(listed) >= 2
    for href, shown in listed:
        referent.goto(href)
        sentence = referent.locator(".dossier-status").inner_text().removeprefix("Où en est le dossier :").strip()
        # The list puts the kind in a tag before the same sentence.
        assert shown.endswith(sentence), (href, shown, sentence)
        assert_plain(referent)
    referent.context.close()


def test_the_gestionnaire_still_steers_the_dossier_with_its_diagram(chromium, demo_site):
    gestionnaire = as_person(chromium, demo_site, "gestionnaire.urogec")
    gestionnaire.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Dossiers").click()
    gestionnaire.get_by_role("link", name="Projet d'accueil — Collège Sainte-Jeanne-d'Arc").first.click()
    expect(gestionnaire.locator(".dossier-status")).to_contain_text(f"« {REFUSAL} »")
    expect(gestionnaire.get_by_role("heading", name="Diagramme")).to_be_visible()
    expect(gestionnaire.get_by_role("heading", name="Historique")).to_be_visible()
    assert_accessible(gestionnaire)
    gestionnaire.context.close()
