"""The dashboard page (/suivi/) issues a fixed number of statements whatever the data, and its shared figures are
those of the single-figure functions."""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from engine.views import monitoring
from engine.views.monitoring import Filters
from engine.views.monitoring_list import instance_page
from engine.views.monitoring_page import dashboard_figures

from conftest import principal_of
from monitoring_support import NOW, seed
from test_query_counts import Statements, ok, projects_in_review

PATHS = ("/suivi/?processus=hosting_project",
         "/suivi/?processus=hosting_project&territoire=35&etape=review_project&statut=running&du=2020-01-01")


@pytest.fixture
def statements(app):
    """Statement counter of the web app."""
    counter = Statements.of_app(app)
    yield counter
    counter.close()


@pytest.mark.parametrize("login", ["pilote", "gestionnaire.udogec35"])
def test_dashboard_statements_do_not_grow_with_the_instances(session, runtime, browser, statements, login):
    projects_in_review(session, runtime, 3, 4000)
    browser.login(login)
    for path in PATHS:
        ok(browser.client.get(path))
    few = [statements.of(lambda p=path: ok(browser.client.get(p))) for path in PATHS]

    projects_in_review(session, runtime, 52, 4100)
    pages = [ok(browser.client.get(path)).get_data(as_text=True) for path in PATHS]
    many = [statements.of(lambda p=path: ok(browser.client.get(p))) for path in PATHS]
    # More than a page of instances, all waiting for their review, the list paged, with or without the filters.
    for html in pages:
        assert "55 dossiers correspondent aux filtres." in html and "Page suivante" in html
        assert re.search(r'data-step="review_project">\s*<td>[^<]*</td>\s*<td class="number">55</td>', html)
    assert many == few
    # About fifteen: the grouped passes, the campaigns, the structures and the campaigns' funnel are read once each.
    assert max(few) <= 17


def figures(session, login: str, filters: Filters):
    """The page's figures for a user and filters."""
    return dashboard_figures(session, principal_of(session, login), filters, monitoring.versions(session), NOW, 1,
                             50)


SELECTIONS = [
    ("pilote", Filters("hosting_project")),
    ("pilote", Filters("hosting_project", status="running")),
    ("pilote", Filters("hosting_project", network="SGEC", step="design_project")),
    ("pilote", Filters("hosting_project", territory="UDOGEC-35", started_from=date(2027, 3, 2))),
    ("gestionnaire.udogec29", Filters("hosting_project")),
    ("gestionnaire.udogec29", Filters("hosting_project", territory="35")),
]


def test_the_page_shares_its_figures_without_changing_them(session, tmp_path):
    seeded = seed(session, tmp_path)
    for login, filters in SELECTIONS:
        me = principal_of(session, login)
        for version in (None, seeded.deployment.id):
            filters.version = version
            board = figures(session, login, filters)
            assert board.counts == monitoring.status_counts(session, me, filters)
            listed = instance_page(session, me, filters, 1, 50)
            assert (board.page.total, [r.id for r in board.page.items]) == (listed.total, [r.id for r in listed.items])
            overdue, overdue_total = monitoring.overdue_tasks(session, me, filters, NOW)
            assert (board.overdue_total, board.overdue) == (overdue_total, overdue)
            assert board.steps == monitoring.step_waits(session, me, filters, NOW)
            assert board.version_counts == monitoring.version_counts(session, me, filters.process_id)


def test_the_page_figures_of_the_seeded_story(session, tmp_path):
    seeded = seed(session, tmp_path)
    board = figures(session, "pilote", Filters("hosting_project", status="running"))
    assert board.counts == {"running": 5, "completed": 0, "refused": 1, "terminated": 1, "incident": 1,
                            "suspended": 1}
    assert board.page.total == 5 and {r.status for r in board.page.items} == {"running"}
    assert {b.key: b.counts for b in board.territories} == {"29": {"running": 2}, "35": {"running": 1},
                                                           "56": {"running": 1}, "75": {"running": 1}}
    assert {b.key: b.total for b in board.networks} == {"CNEAP": 1, "SGEC": 4}
    assert board.version_counts == {seeded.deployment.id: 9}
    assert board.overdue_total == 3 and [t.instance_id for t in board.overdue] == [
        seeded.instances[n].id for n in ("rennes", "paris", "brest-a")]
    design = next(s for s in board.steps if s.spec_id == "design_project")
    assert (design.waiting, design.oldest, design.overdue) == (4, datetime(2027, 3, 1, 9), 3)
    rennes = next(r for r in board.page.items if r.id == seeded.instances["rennes"].id)
    assert rennes.waiting_since == datetime(2027, 3, 1, 9) and rennes.overdue(NOW)
