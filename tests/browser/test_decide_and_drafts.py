"""In Chromium: nothing typed is lost (leave, come back, find the text), the review shows the project as
submitted, errors come in one round, and the submit button names the decision."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from engine.runtime.runtime import ProcessRuntime, RuntimeSettings

from .conftest import assert_accessible, choose, field, login
from conftest import SAMPLES, principal_of
from test_processes import ready, start_project


@pytest.fixture
def project(site):
    """A hosting project of Rennes waiting for its référent, and a way to submit it."""
    with site.sessions() as session:
        runtime = ProcessRuntime(session, RuntimeSettings(site.storage_dir))
        instance = start_project(runtime, session)
        (task,) = ready(session, instance.id, "design_project")
        return instance.id, task.id


def test_leaving_a_form_and_coming_back_finds_the_text(site, page, project):
    _instance_id, task_id = project
    login(page, "referent.rennes")
    page.goto(f"/taches/{task_id}")
    field(page, "Intitulé de la mission").fill("Ateliers d'écriture au CDI")
    field(page, "Description de la mission").fill("Premier jet : le CDI ouvre le soir, à préciser avec l'équipe.")
    page.get_by_role("button", name="Revenir plus tard").click()
    expect(page.get_by_text("est gardée en brouillon")).to_be_visible()
    page.goto(f"/taches/{task_id}")
    expect(field(page, "Intitulé de la mission")).to_have_value("Ateliers d'écriture au CDI")
    expect(field(page, "Description de la mission")).to_have_value(
        "Premier jet : le CDI ouvre le soir, à préciser avec l'équipe.")
    expect(page.get_by_role("status").filter(has_text="Brouillon enregistré le")).to_be_visible()
    assert_accessible(page)
    assert page.errors == []


def test_errors_come_in_one_round_and_the_input_stays(site, page, project):
    _instance_id, task_id = project
    login(page, "referent.rennes")
    page.goto(f"/taches/{task_id}")
    project_data = SAMPLES["design_project"]
    field(page, "Intitulé de la mission").fill(project_data["title"])
    field(page, "Durée hebdomadaire (en heures)").fill("12")
    field(page, "Date de début souhaitée").fill("2020-09-01")
    page.get_by_role("button", name="Valider et transmettre").click()
    summary = page.locator("#resume-erreurs")
    expect(summary).to_be_visible()
    # Missing fields and a business rule on the start date, in the same answer.
    expect(summary.get_by_role("link", name="Description de la mission")).to_be_visible()
    expect(summary.get_by_role("link", name="Date de début souhaitée")).to_be_visible()
    expect(field(page, "Intitulé de la mission")).to_have_value(project_data["title"])
    page.goto(f"/taches/{task_id}")
    expect(field(page, "Intitulé de la mission")).to_have_value(project_data["title"])
    assert_accessible(page)


def test_the_review_shows_the_project_and_the_button_names_the_decision(site, page, project):
    instance_id, task_id = project
    with site.sessions() as session:
        runtime = ProcessRuntime(session, RuntimeSettings(site.storage_dir))
        runtime.complete(task_id, principal_of(session, "referent.rennes"), SAMPLES["design_project"])
        (review,) = ready(session, instance_id, "review_project")
        review_id = review.id
    login(page, "gestionnaire.udogec35")
    page.goto(f"/taches/{review_id}")
    submitted = page.get_by_role("region", name="Le projet d'accueil déposé")
    expect(submitted).to_contain_text(SAMPLES["design_project"]["description"])
    expect(submitted).to_contain_text(SAMPLES["design_project"]["activities"])
    expect(page.get_by_role("region", name="L'établissement et son quota")).to_contain_text("1 volontaire au plus")
    button = page.locator("button[data-submit-button]")
    expect(button).to_have_text("Valider et transmettre")
    choose(page, "Décision", "Refuser le projet")
    expect(button).to_have_text("Refuser le projet")
    choose(page, "Décision", "Demander des modifications au référent")
    expect(button).to_have_text("Demander les modifications")
    assert_accessible(page)
    assert page.errors == []
