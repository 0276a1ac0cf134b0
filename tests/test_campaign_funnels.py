"""Campaigns compared on the dashboard: each campaign's funnel, the previous campaign a year earlier, by territory and
network, within each person's scope, in a bounded number of statements, exported, drawn."""
from __future__ import annotations

import csv
import html
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from engine.campaign.campaigns import all_campaigns, phase_labels
from engine.models import VolunteerMission
from engine.views.funnel import STAGES, campaign_funnels, year_earlier
from engine.views.monitoring import Filters

from conftest import principal_of
from monitoring_support import CAMPAIGN_DAY, Place, campaigns, project, two_campaigns
from test_processes import accepted_project, run_volunteer_path

STAGE_ORDER = list(STAGES)


def counts(line, when: str = "now") -> list[int]:
    """A funnel line's counts in stage order."""
    return [getattr(line, when)[stage] for stage in STAGE_ORDER]


def funnels_for(session, login: str = "pilote", today: date = CAMPAIGN_DAY, **filters):
    """The funnels a person sees on a day, with the dashboard's filters."""
    return campaign_funnels(session, principal_of(session, login), Filters("hosting_project", **filters), today,
                            phase_labels(all_campaigns(session), today))


@pytest.fixture
def story(session):
    """The two campaigns of `campaign_support.two_campaigns`."""
    return two_campaigns(session)


def test_each_campaign_has_its_funnel_from_submission_to_the_end_of_missions(session, story):
    funnels = funnels_for(session)
    assert [(f.school_year, f.phase) for f in funnels.campaigns] == [("2027-2028", "en préparation"),
                                                                     ("2026-2027", "en cours")]
    preparing, in_progress = funnels.campaigns
    # Submitted, accepted, published, selected, contracts, completed, ended early.
    assert counts(preparing.total) == [3, 2, 1, 0, 0, 0, 0]
    # Rennes sent back once counts once; Brest's two places count two volunteers and two contracts.
    assert counts(in_progress.total) == [3, 2, 2, 3, 3, 1, 1]


def test_a_campaign_is_compared_with_the_previous_one_on_the_same_day_a_year_earlier(session, story):
    funnels = funnels_for(session)
    assert (funnels.today, funnels.compared_on) == (date(2027, 5, 12), date(2026, 5, 12))
    by_year = {c.campaign.school_year: c for c in funnels.comparisons}
    assert set(by_year) == {"2027-2028", "2026-2027"}
    # On 12 May 2026, 2026-2027 had two projects submitted and accepted, one offer published (Brest's came 20 May).
    assert [(stage, now, then) for stage, _label, now, then in by_year["2027-2028"].stages()] == [
        ("submitted", 3, 2), ("accepted", 2, 2), ("published", 1, 1), ("selected", 0, 0), ("contracts", 0, 0),
        ("completed", 0, 0), ("ended_early", 0, 0)]
    # 2025-2026 has no project here: the campaign in progress is compared with nothing.
    assert by_year["2026-2027"].previous.school_year == "2025-2026"
    assert [then for *_, then in by_year["2026-2027"].stages()] == [0] * len(STAGES)


def test_the_same_day_a_year_earlier_of_a_29_february_is_the_28th():
    assert year_earlier(date(2028, 2, 29)) == date(2027, 2, 28)
    assert year_earlier(date(2027, 12, 6)) == date(2026, 12, 6)


def test_funnels_by_territory_and_network(session, story):
    in_progress = funnels_for(session).campaigns[1]
    territories = {line.label: counts(line) for line in in_progress.territories}
    assert territories == {
        "Urogec Bretagne": [3, 2, 2, 3, 3, 1, 1],
        "Udogec du Finistère": [1, 1, 1, 2, 2, 1, 0],
        "Udogec d'Ille-et-Vilaine": [1, 1, 1, 1, 1, 0, 1],
        # The Morbihan's union is not dedicated to Service Civique: it counts its schools' projects all the same.
        "Udogec du Morbihan": [1, 0, 0, 0, 0, 0, 0],
        "Département 29": [1, 1, 1, 2, 2, 1, 0],
        "Département 35": [1, 1, 1, 1, 1, 0, 1],
        "Département 56": [1, 0, 0, 0, 0, 0, 0],
    }
    assert [line.label for line in in_progress.territories][:3] == [
        "Urogec Bretagne", "Udogec du Finistère", "Udogec d'Ille-et-Vilaine"]
    assert {line.label: counts(line) for line in in_progress.networks} == {
        "CNEAP": [1, 0, 0, 0, 0, 0, 0], "SGEC": [2, 2, 2, 3, 3, 1, 1]}
    assert {line.label: counts(line, "then")[0] for line in in_progress.networks} == {"CNEAP": 0, "SGEC": 2}


def test_a_gestionnaire_sees_the_funnels_of_their_territory_only(session, story):
    funnels = funnels_for(session, "gestionnaire.udogec29")
    preparing, in_progress = funnels.campaigns
    assert counts(preparing.total) == [1, 0, 0, 0, 0, 0, 0]
    assert counts(in_progress.total) == [1, 1, 1, 2, 2, 1, 0]
    # Only the Udogec whose whole territory they see sums its departments.
    assert [line.label for line in in_progress.territories] == ["Udogec du Finistère", "Département 29"]
    # Asking for another territory gives nothing more.
    assert funnels_for(session, "gestionnaire.udogec29", territory="35").campaigns == []
    urogec = funnels_for(session, "gestionnaire.urogec").campaigns[1]
    assert [line.label for line in urogec.territories][:3] == [
        "Urogec Bretagne", "Udogec du Finistère", "Udogec d'Ille-et-Vilaine"]


def test_filters_narrow_the_funnels(session, story):
    assert [counts(f.total) for f in funnels_for(session, network="CNEAP").campaigns] == [[1, 0, 0, 0, 0, 0, 0]]
    territory = funnels_for(session, territory="UDOGEC-35")
    assert [counts(f.total)[:3] for f in territory.campaigns] == [[1, 1, 1], [1, 1, 1]]
    # Under a territory filter, no structure sums departments it does not fully show.
    assert [line.label for line in territory.campaigns[1].territories] == ["Département 35"]


def test_a_chosen_campaign_is_shown_with_the_previous_one(session, story):
    funnels = funnels_for(session, campaign="2027-2028")
    assert [f.school_year for f in funnels.campaigns] == ["2027-2028", "2026-2027"]
    assert [c.campaign.school_year for c in funnels.comparisons] == ["2027-2028"]
    funnels = funnels_for(session, campaign="2026-2027")
    assert [f.school_year for f in funnels.campaigns] == ["2026-2027"]
    assert [(c.campaign.school_year, c.previous.school_year) for c in funnels.comparisons] == [
        ("2026-2027", "2025-2026")]
    assert funnels_for(session, campaign="2030-2031").campaigns == []


def test_the_funnels_take_one_statement_whatever_the_data(session):
    campaigns(session)
    engine = session.get_bind()
    seen: list[str] = []
    urogec, pilote = principal_of(session, "gestionnaire.urogec"), principal_of(session, "pilote")
    phases = phase_labels(all_campaigns(session), CAMPAIGN_DAY)

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    def statements() -> int:
        seen.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            campaign_funnels(session, urogec, Filters("hosting_project", territory="UDOGEC-35"), CAMPAIGN_DAY, phases)
            campaign_funnels(session, pilote, Filters("hosting_project", campaign="2027-2028"), CAMPAIGN_DAY, phases)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    few_stories = [project(session, "rennes", "2027-2028", "2027-03-01", "2027-03-02", "2027-03-03",
                           (Place("2027-06-01", "2027-09-01"),))]
    few = statements()
    for n in range(30):
        city = ("rennes", "brest", "paris", "pontivy")[n % 4]
        few_stories.append(project(session, city, ("2026-2027", "2027-2028")[n % 2], "2027-03-01", "2027-03-02",
                                   "2027-03-03", (Place("2027-06-01", "2027-09-01", "2028-01-10", early=n % 3 == 0),
                                                  Place("2027-06-02"))))
    many = statements()
    assert many == few
    # The territory's structure (first call only), the structures, the grouped statement.
    assert few == 5


def test_the_funnel_of_a_path_played_to_the_end(runtime, session):
    """Stages read from the rows the runtime really writes: a project accepted and published, its volunteer
    selected, the contract confirmed, the mission completed with its report."""
    instance = accepted_project(runtime, session, "rennes")
    run_volunteer_path(runtime, session, instance.id)
    assert session.scalar(select(VolunteerMission.status).where(VolunteerMission.instance_id == instance.id)) == \
        "completed"
    funnels = funnels_for(session, today=date(2028, 6, 1))
    (funnel,) = [f for f in funnels.campaigns if f.school_year == instance.campaign]
    assert counts(funnel.total) == [1, 1, 1, 1, 1, 1, 0]
    # Played on 15 March 2027 (the runtime's clock): all of it before 1 June 2027, a year before.
    assert counts(funnel.total, "then") == [1, 1, 1, 1, 1, 1, 0]
    assert counts(funnels_for(session, today=date(2027, 12, 6)).campaigns[0].total, "then") == [0] * len(STAGES)


def test_funnels_are_exported_as_csv_and_excel(session, story):
    from engine.views.funnel import funnel_csv, funnel_xlsx

    funnels = funnels_for(session)
    rows = list(csv.reader(io.StringIO(funnel_csv(funnels).lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == ["Campagne", "Situation", "Compté au", "Regroupement", "Territoire ou réseau", *STAGES.values()]
    assert ["2027-2028", "en préparation", "2027-05-12", "Ensemble", "", "3", "2", "1", "0", "0", "0", "0"] in rows
    assert ["2026-2027", "en cours", "2027-05-12", "Territoire", "Département 35", "1", "1", "1", "1", "1", "0",
            "1"] in rows
    assert ["2026-2027", "en cours", "2027-05-12", "Réseau", "CNEAP", "1", "0", "0", "0", "0", "0", "0"] in rows
    # The previous campaign as it stood a year earlier.
    assert ["2026-2027", "en cours", "2026-05-12", "Ensemble", "", "2", "2", "1", "0", "0", "0", "0"] in rows
    sheet = load_workbook(io.BytesIO(funnel_xlsx(funnels))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == rows[0]
    assert ["2027-2028", "en préparation", datetime(2027, 5, 12), "Ensemble", None, 3, 2, 1, 0, 0, 0, 0] in values
    assert len(values) == len(rows)


def text(response) -> str:
    """A page's text as a reader sees it."""
    return " ".join(html.unescape(response.get_data(as_text=True)).replace("\u202f", " ").split())


def test_the_dashboard_compares_the_campaigns_with_a_chart(browser, session, story):
    browser.login("pilote")
    page = text(browser.client.get("/suivi/?processus=hosting_project"))
    phases = phase_labels(all_campaigns(session), date.today())
    assert "Campagnes comparées" in page and "au même jour du calendrier, un an plus tôt" in page
    assert '<figure class="chart funnel-chart" data-campaign="2027-2028">' in page
    assert 'class="bar bar-now"' in page and 'class="bar bar-then"' in page
    assert "Urogec Bretagne" in page and "Département 56" in page
    assert f'Campagne 2027-2028 <span class="tag">{phases["2027-2028"]}</span>' in page
    assert 'href="/suivi/campagnes.csv?processus=hosting_project" download' in page
    # The list says which campaign each dossier belongs to.
    assert f'<span class="tag tag-campaign">2026-2027 · {phases["2026-2027"]}</span>' in page
    # Chosen on the dashboard: the list keeps that campaign's dossiers, the funnels add the previous campaign.
    chosen = text(browser.client.get("/suivi/?processus=hosting_project&campagne=2027-2028"))
    assert "4 dossiers correspondent aux filtres." in chosen and '<option value="2027-2028" selected>' in chosen
    assert "la campagne choisie est montrée avec la précédente" in chosen
    wrong = text(browser.client.get("/suivi/?processus=hosting_project&campagne=2027-28"))
    assert "Campagne « 2027-28 » illisible (attendu : 2026-2027) : filtre ignoré." in wrong


def test_the_funnel_exports_keep_the_gestionnaire_in_their_territory(browser, session, story):
    browser.login("gestionnaire.udogec29")
    response = browser.client.get("/suivi/campagnes.csv?processus=hosting_project")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert "Département 29" in body and "Département 35" not in body and "Urogec" not in body
    workbook = browser.client.get("/suivi/campagnes.xlsx?campagne=2027-2028")
    assert workbook.status_code == 200 and 'filename="campagnes-' in workbook.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == {"2027-2028", "2026-2027"}
