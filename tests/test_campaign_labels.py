"""Nothing assumes a single campaign: the home page names both campaigns and their dates, tasks, dossiers, missions and
trainings say which campaign they belong to, and the dossier list and the API filter by campaign."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

from sqlalchemy import select

from engine.campaign.campaigns import all_campaigns, phase_labels, school_year_bounds, school_year_of
from engine.models import Structure, TaskRow
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings
from handlers.formats import date_fr

from conftest import SAMPLES, principal_of
from monitoring_support import Place, campaigns, project, two_campaigns
from test_processes import start_project


def words(response) -> str:
    """What a reader sees of a page: its text without tags, spaces collapsed."""
    text = re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True)).replace("\u202f", " "))
    return " ".join(text.split()).replace(" .", ".")


def years_around_today() -> tuple[str, str]:
    """Today's school year and the next one."""
    current = school_year_of(date.today())
    first = int(current[:4]) + 1
    return current, f"{first}-{first + 1}"


def test_the_home_page_names_both_campaigns_and_their_key_dates(browser, session):
    current, following = years_around_today()
    made = campaigns(session, date.today())
    project(session, "rennes", current, f"{current[:4]}-03-02", f"{current[:4]}-03-20", f"{current[:4]}-04-02",
            (Place(f"{current[:4]}-06-10", f"{current[:4]}-09-01"),))
    # Next year's project, started and not yet submitted.
    following_project = project(session, "rennes", following)
    accepted = project(session, "brest", following, f"{following[:4]}-01-10", f"{following[:4]}-01-20")
    browser.login("referent.rennes")
    page = words(browser.client.get("/"))
    start, end = school_year_bounds(current)
    assert (f"Campagne {current}, en cours — missions de l'année scolaire, du {date_fr(start)} au {date_fr(end)} : "
            "suivi des volontaires, formations et fins de mission.") in page
    opened = made[following]
    assert (f"Campagne {following}, en préparation — dépôt des projets d'accueil jusqu'au "
            f"{date_fr(opened.submission_deadline)} ; missions débutant entre le {date_fr(opened.earliest_start)} et "
            f"le {date_fr(opened.latest_start)}.") in page
    # The school card shows the project of each campaign and where it stands (these rows have no task waiting).
    assert f"Projet d'accueil {following} (en préparation) : En cours : aucune tâche ni échéance" in page
    assert f"Projet d'accueil {current} (en cours) : En cours : aucune tâche ni échéance" in page
    assert "Place 1 : Léa Volontaire 1, en mission jusqu'au" in page
    assert f'href="/dossiers/{following_project.id}"' in browser.client.get("/").get_data(as_text=True)
    # The volunteer in mission belongs to the campaign in progress.
    assert f"Campagne {current} · en cours Formations obligatoires de Léa Volontaire 1" in page
    browser.logout()

    browser.login("referent.brest")
    page = words(browser.client.get("/"))
    # The task to publish the offer is next year's, in the list of things to do and in the table.
    assert f"Campagne {following} · en préparation publish_offer 1" in page
    assert f"{accepted.title} Campagne {following} · en préparation" in page


def test_the_dossier_list_labels_and_filters_by_campaign(browser, session):
    two_campaigns(session)
    browser.login("pilote")
    page = words(browser.client.get("/dossiers/"))
    phases = phase_labels(all_campaigns(session), date.today())
    assert "7 dossiers." in page and f"Lycée Sainte-Anne 2027-2028 · {phases['2027-2028']} Lycée Sainte-Anne" in page
    assert '<label for="campagne">Campagne</label>' in browser.client.get("/dossiers/").get_data(as_text=True)
    chosen = browser.client.get("/dossiers/?campagne=2026-2027")
    assert "3 dossiers." in words(chosen) and "2027-2028 ·" not in words(chosen)
    assert '<option value="2026-2027" selected>' in chosen.get_data(as_text=True)
    # A campaign that does not exist is no filter.
    assert "7 dossiers." in words(browser.client.get("/dossiers/?campagne=1999-2000"))


def test_the_api_searches_instances_by_campaign(api, session):
    two_campaigns(session)
    found = api.get("/api/v1/instances?campaign=2027-2028&per_page=100", "gestionnaire.udogec29")
    assert found.status_code == 200
    assert [(item["campaign"], item["establishment"]["uai"]) for item in found.json["items"]] == [
        ("2027-2028", "0291652N")]
    assert api.get("/api/v1/instances?campaign=2027-2028", "pilote").json["total"] == 4
    refused = api.get("/api/v1/instances?campaign=2027", "pilote")
    assert refused.status_code == 400 and "campaign" in refused.json["message"]


def test_a_project_started_today_belongs_to_the_open_campaign(runtime, session, browser):
    """The demo's campaign (opened for the school year being prepared) labels what starts in it."""
    instance = start_project(runtime, session, "rennes")
    browser.login("pilote")
    page = words(browser.client.get("/dossiers/?processus=hosting_project"))
    assert f"{instance.title} {instance.campaign} · en préparation" in page


def test_trainings_say_their_campaign(browser, session, tmp_path):
    # Planned today, for a session in three weeks: the runtime reads the real clock.
    runtime = ProcessRuntime(session, RuntimeSettings(tmp_path / "documents"))
    organiser = principal_of(session, "gestionnaire.udogec35")
    structure = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    training = runtime.start("training", organiser, structure=structure, campaign="2027-2028")
    task = session.scalar(select(TaskRow).where(TaskRow.instance_id == training.id, TaskRow.state == "ready"))
    runtime.complete(task.id, organiser, {**SAMPLES["plan_training"], "title": "Formation civique d'hiver",
                                          "session_date": (date.today() + timedelta(days=20)).isoformat()})
    browser.login("gestionnaire.udogec35")
    page = words(browser.client.get("/formations/"))
    assert "Formation civique d'hiver Campagne 2027-2028" in page
