"""In Chromium: a process an analyst added (the mid-year survey) is started from the home page and answered."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from test_process_catalogue import project_files, with_survey

from engine.runtime.deployment import deploy

from .conftest import assert_accessible, field, login


@pytest.fixture(scope="module")
def survey(site):
    """The campaign's processes deployed with the survey, as the current version."""
    with site.sessions() as session:
        deploy(session, with_survey(project_files()), actor="tests")
        session.commit()


def test_a_referent_starts_and_answers_the_survey_from_the_home_page(survey, page):
    login(page, "referent.rennes")
    start = page.get_by_role("region", name="Démarrer un dossier").get_by_role(
        "button", name=re.compile(r"^Répondre à l'enquête de mi-année — "))
    assert_accessible(page)
    start.click()
    expect(page).to_have_url(re.compile(r"/taches/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Répondre à l'enquête")
    field(page, "Vos volontaires sont-ils bien intégrés ?").select_option("en partie")
    field(page, "Ce qui pourrait aller mieux").fill("Un point d'équipe chaque mois.")
    page.locator("button[data-submit-button]").click()
    expect(page.get_by_text("est enregistré")).to_be_visible()
    assert not page.errors
