"""The dashboard's figures on seeded instances at known steps and dates: counts, waits, delays, exports."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.access import can_view
from engine.models import TaskRow
from engine.runtime.due_dates import due_after, duration_fr
from engine.views import monitoring
from engine.views.monitoring import Filters
from engine.views.monitoring_heat import node_heat
from engine.views.monitoring_list import instance_page
from engine.views.next_steps import review_queue

from conftest import principal_of
from monitoring_support import NOW, sample, seed


@pytest.fixture
def seeded(session, tmp_path):
    """The seeded projects (see `monitoring_support.seed`)."""
    return seed(session, tmp_path)


def steps_of(session, login, filters):
    return {s.spec_id: s for s in monitoring.step_waits(session, principal_of(session, login), filters, NOW)}


def test_counts_by_status(session, seeded):
    counts = monitoring.status_counts(session, principal_of(session, "pilote"), Filters("hosting_project"))
    assert counts == {"running": 5, "completed": 0, "refused": 1, "terminated": 1, "incident": 1, "suspended": 1}


def test_waits_per_step_with_median_oldest_and_overdue(session, seeded):
    steps = steps_of(session, "pilote", Filters("hosting_project", version=seeded.deployment.id))
    design = steps["design_project"]
    assert (design.waiting, design.oldest, design.median) == (5, datetime(2027, 3, 1, 9), datetime(2027, 3, 3, 9))
    assert design.overdue == 4 and design.due_in == "P7D" and design.due_valid
    assert monitoring.wait_fr(design.median, NOW) == "9 jours"
    assert monitoring.wait_fr(design.oldest, NOW) == "11 jours"
    review = steps["review_project"]
    assert (review.waiting, review.oldest, review.median, review.overdue) == (1, datetime(2027, 3, 8, 9),
                                                                               datetime(2027, 3, 8, 9), 0)
    # Steps where nothing waits are listed too, with the volunteer path's steps.
    assert steps["publish_offer"].waiting == 0 and steps["select_volunteer"].process_id == "volunteer"


def test_median_of_an_even_count_is_between_the_two_middle_waits(session, seeded):
    steps = steps_of(session, "pilote", Filters("hosting_project", network="SGEC"))
    assert steps["design_project"].waiting == 4
    assert steps["design_project"].median == datetime(2027, 3, 2, 21, 0)


def test_overdue_list_is_most_late_first(session, seeded):
    tasks, total = monitoring.overdue_tasks(session, principal_of(session, "pilote"), Filters("hosting_project"), NOW)
    assert total == 4
    assert [t.instance_id for t in tasks] == [seeded.instances[n].id for n in
                                               ("rennes", "rennes-suspended", "paris", "brest-a")]
    assert tasks[0].due_at == datetime(2027, 3, 8, 9)
    assert tasks[0].task_title == "Concevoir et déposer le projet d'accueil"


def test_a_gestionnaire_sees_only_the_figures_of_their_territory(session, seeded):
    me = principal_of(session, "gestionnaire.udogec29")
    counts = monitoring.status_counts(session, me, Filters("hosting_project"))
    assert counts == {"running": 2, "completed": 0, "refused": 0, "terminated": 0, "incident": 1, "suspended": 0}
    assert steps_of(session, "gestionnaire.udogec29", Filters("hosting_project"))["design_project"].waiting == 1
    listed = instance_page(session, me, Filters("hosting_project"), 1, 50)
    assert listed.total == 3 and {r.department for r in listed.items} == {"29"}
    # Asking for another territory gives nothing more.
    assert monitoring.status_counts(session, me, Filters("hosting_project", territory="35"))["running"] == 0


def test_each_gestionnaire_counts_the_reviews_waiting_in_the_dossiers_they_may_see(session, seeded):
    # Reviews in Rennes (Udogec 35) and Paris (Fnogec) besides Brest's (Udogec 29); Paris's dossier then suspended.
    seeded.do("rennes", "referent.rennes", "design_project", sample("design_project"), NOW)
    seeded.do("paris", "referent.paris", "design_project", sample("design_project"), NOW)
    seeded.runtime.suspend(seeded.instances["paris"], principal_of(session, "pilote"), "Changement de direction.")
    reviews = session.scalars(select(TaskRow).where(TaskRow.state == "ready", TaskRow.spec_id == "review_project"))
    waiting = {review.instance_id: review.instance for review in reviews}
    assert {instance.department for instance in waiting.values()} == {"29", "35", "75"}

    territories = {}
    for login in ("gestionnaire.udogec35", "gestionnaire.udogec29", "gestionnaire.urogec", "gestionnaire.fnogec"):
        me = principal_of(session, login)
        # What the dossier pages let them see, less the suspended dossier.
        expected = sum(1 for instance in waiting.values()
                       if instance.status != "suspended" and can_view(session, me, instance))
        territories[login] = review_queue(session, me, NOW).territory
        assert territories[login] == expected, login
    assert territories == {"gestionnaire.udogec35": 1, "gestionnaire.udogec29": 1, "gestionnaire.urogec": 2,
                           "gestionnaire.fnogec": 2}
    assert review_queue(session, principal_of(session, "referent.rennes"), NOW) is None


def test_filters_narrow_every_figure(session, seeded):
    pilote = principal_of(session, "pilote")
    assert monitoring.status_counts(session, pilote, Filters("hosting_project", territory="UDOGEC-35")) == {
        "running": 1, "completed": 0, "refused": 1, "terminated": 0, "incident": 0, "suspended": 1}
    assert monitoring.status_counts(session, pilote, Filters("hosting_project", network="CNEAP"))["running"] == 1
    assert monitoring.status_counts(session, pilote, Filters("hosting_project", establishment_uai="0291652N")) == {
        "running": 2, "completed": 0, "refused": 0, "terminated": 0, "incident": 1, "suspended": 0}
    by_step = Filters("hosting_project", step="review_project")
    assert sum(monitoring.status_counts(session, pilote, by_step).values()) == 1
    since = Filters("hosting_project", started_from=date(2027, 3, 7), started_to=date(2027, 3, 9))
    assert sum(monitoring.status_counts(session, pilote, since).values()) == 3
    listed = instance_page(session, pilote, Filters("hosting_project", status="incident"), 1, 50)
    assert listed.total == 1 and listed.items[0].id == seeded.instances["brest-incident"].id


def test_breakdown_by_territory_and_network(session, seeded):
    pilote = principal_of(session, "pilote")
    territories = {b.key: b.counts for b in monitoring.breakdown(session, pilote, Filters("hosting_project"),
                                                                 "territory")}
    assert territories == {"29": {"running": 2, "incident": 1}, "35": {"running": 1, "refused": 1, "suspended": 1},
                           "56": {"running": 1}, "75": {"running": 1, "terminated": 1}}
    networks = {b.key: b.total for b in monitoring.breakdown(session, pilote, Filters("hosting_project"), "network")}
    assert networks == {"CNEAP": 1, "SGEC": 8}


def test_weekly_throughput(session, seeded):
    weeks = monitoring.weekly_throughput(session, principal_of(session, "pilote"), Filters("hosting_project"),
                                         date(2027, 3, 12), weeks=3)
    assert [(w.start, w.started, w.ended) for w in weeks] == [
        (date(2027, 2, 22), 0, 0), (date(2027, 3, 1), 6, 0), (date(2027, 3, 8), 3, 2)]


def test_heat_per_node_counts_waits_and_incidents(session, seeded):
    heat = node_heat(session, principal_of(session, "pilote"),
                                Filters("hosting_project", version=seeded.deployment.id), NOW)
    assert heat[("hosting_project", "design_project")].waiting == 5
    assert heat[("hosting_project", "design_project")].median_wait == "9 j"
    assert heat[("hosting_project", "check_school_file_task")].incidents == 1
    assert heat[("hosting_project", "review_project")].waiting == 1


def test_dashboard_page_shows_the_figures(browser, seeded):
    browser.login("pilote")
    page = browser.client.get(f"/suivi/?processus=hosting_project&version={seeded.deployment.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-status="running">5<' in html and 'data-status="incident">1<' in html
    assert 'data-step="design_project"' in html and "Dossiers en retard" in html


def test_unreadable_filters_are_ignored_with_a_message(browser, seeded):
    browser.login("pilote")
    html = browser.client.get("/suivi/?processus=inconnu&du=hier&statut=perdu&version=abc").get_data(as_text=True)
    assert "Date « hier » illisible" in html and "Statut « perdu » inconnu" in html
    assert "Processus « inconnu » inconnu" in html and "Version « abc » inconnue" in html


def test_a_referent_may_not_open_the_dashboard(browser, seeded):
    browser.login("referent.rennes")
    assert browser.client.get("/suivi/").status_code == 403
    assert browser.client.get("/suivi/export.csv").status_code == 403


def test_csv_export_has_the_filtered_list(browser, seeded):
    browser.login("pilote")
    response = browser.client.get("/suivi/export.csv?processus=hosting_project&statut=running")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0][:5] == ["Dossier", "Intitulé", "Processus", "Version", "Statut"]
    assert {int(r[0]) for r in rows[1:]} == {seeded.instances[n].id for n in ("rennes", "paris", "brest-a", "brest-b",
                                                                              "pontivy")}
    brest_b = next(r for r in rows[1:] if int(r[0]) == seeded.instances["brest-b"].id)
    assert brest_b[4] == "En cours" and brest_b[6] == "0291652N" and brest_b[10] == "Instruire le projet d'accueil"
    assert brest_b[11] == "2027-03-08 09:00" and brest_b[12] == "2027-03-22 09:00"


def test_xlsx_export_has_the_same_list_with_real_dates(browser, seeded):
    browser.login("gestionnaire.udogec29")
    response = browser.client.get("/suivi/export.xlsx?processus=hosting_project")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Dossier" and rows[0][-1] == "Incident"
    assert {r[0] for r in rows[1:]} == {seeded.instances[n].id for n in ("brest-a", "brest-b", "brest-incident")}
    incident = next(r for r in rows[1:] if r[0] == seeded.instances["brest-incident"].id)
    assert incident[4] == "En incident" and "Annuaire injoignable" in incident[-1]
    assert incident[13] == datetime(2027, 3, 9, 8, 0)


def test_exports_neutralise_cells_a_spreadsheet_would_run(browser, session, seeded):
    seeded.instances["rennes"].title = "=HYPERLINK(\"http://example.org\")"
    session.commit()
    browser.login("pilote")
    text = browser.client.get("/suivi/export.csv?processus=hosting_project").get_data(as_text=True)
    assert "'=HYPERLINK" in text
    sheet = load_workbook(io.BytesIO(browser.client.get("/suivi/export.xlsx?processus=hosting_project").data)).active
    titles = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://example.org\")" in titles


@pytest.mark.parametrize(("value", "words", "due"), [
    ("P21D", "21 jours", datetime(2027, 3, 22, 9)), ("P3W", "3 semaines", datetime(2027, 3, 22, 9)),
    ("PT48H", "48 heures", datetime(2027, 3, 3, 9)), ("P1M2D", "1 mois et 2 jours", datetime(2027, 4, 3, 9)),
    ("21 jours", None, None), ("P", None, None),
])
def test_due_durations_are_iso_8601(value, words, due):
    assert duration_fr(value) == words
    assert due_after(value, datetime(2027, 3, 1, 9)) == due
