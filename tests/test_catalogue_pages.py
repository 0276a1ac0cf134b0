"""The school cards and the dashboard follow the deployed catalogue, not roles written in code.

Who sees « Concevoir le projet d'accueil » is the campaign process's `startableBy`; the dashboard lists the
processes with the catalogue's labels, those people start first, then those other processes call.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from engine.models import Establishment, ProcessInstance
from engine.runtime.catalogue import current_catalogue
from engine.runtime.deployment import deploy, read_definition_files

from conftest import ROOT

RENNES = "0350781J"
CAMPAIGN_START = 'action="/dossiers/demarrer/hosting_project"'


def deploy_project_startable_by(session, roles: str) -> None:
    """Deploy the project's files with the hosting project's `startableBy` changed, as the current version."""
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    name = "processes/hosting_project.bpmn"
    changed = files[name].replace('<spiffworkflow:property name="startableBy" value="referent" />',
                                  f'<spiffworkflow:property name="startableBy" value="{roles}" />', 1)
    assert changed != files[name]
    files[name] = changed
    deploy(session, files, actor="tests")
    session.commit()


def home_of(browser, login: str) -> str:
    """The home page of a demo account."""
    if browser.client.get("/").status_code == 200:
        browser.logout()
    browser.login(login)
    return browser.client.get("/").get_data(as_text=True)


def test_the_school_card_offers_the_project_to_whom_the_catalogue_names(session, browser):
    rennes = session.scalar(select(Establishment).where(Establishment.uai == RENNES))
    assert CAMPAIGN_START in home_of(browser, "referent.rennes")
    assert CAMPAIGN_START not in home_of(browser, "gestionnaire.udogec35")

    deploy_project_startable_by(session, "gestionnaire")
    assert current_catalogue(session).campaign_process.startable_by == ("gestionnaire",)
    referent_home = home_of(browser, "referent.rennes")
    assert CAMPAIGN_START not in referent_home
    card = referent_home.partition(f'id="etablissement-{rennes.id}"')[2].partition("</article>")[0]
    assert rennes.name in referent_home and "Concevoir le projet d&#39;accueil" not in card
    gestionnaire_home = home_of(browser, "gestionnaire.udogec35")
    assert CAMPAIGN_START in gestionnaire_home and 'name="uai"' in gestionnaire_home
    started = browser.post_form("/dossiers/demarrer/hosting_project", {"uai": RENNES}, page="/")
    assert started.status_code == 302, started.get_data(as_text=True)[:2000]
    project = session.scalar(select(ProcessInstance).where(ProcessInstance.process_id == "hosting_project",
                                                           ProcessInstance.establishment_id == rennes.id))
    assert project is not None and project.started_by_id is not None


def test_the_dashboard_lists_the_catalogue_startable_processes_first(browser):
    browser.login("pilote")
    page = browser.client.get("/suivi/").get_data(as_text=True)
    select_box = page.partition('name="processus"')[2].partition("</select>")[0]
    options = re.findall(r'<option value="([a-z_]+)"[^>]*>([^<]+)</option>', select_box)
    assert [value for value, _label in options] == ["hosting_project", "training", "follow_up", "volunteer"]
    assert dict(options)["hosting_project"] == "Projet d&#39;accueil"
