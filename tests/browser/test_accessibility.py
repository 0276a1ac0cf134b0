"""In Chromium with axe-core: no serious or critical WCAG 2 A/AA violation on any page a role can reach.

The pages are found as a person would find them: from each role's home page, following the same-origin links
(bounded; logout, file downloads and a second address of the same kind of page are left out); a link that leads
to an error page is reported too. The data are those of a campaign under way, put in place through the engine:
a volunteer in follow-up at Rennes with a monthly follow-up due, a training session planned by the Udogec of
Ille-et-Vilaine, and a project of Brest awaiting its review, out of the reach of the Rennes accounts (the French
403 page is checked with it).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.models import Structure
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings

from .conftest import assert_accessible, axe_violations, describe_violations, login
from conftest import principal_of
from follow_up_support import run_worker, to_follow_up
from test_processes import do, sample, start_project

FIRST_MONTH = datetime(2027, 11, 1, 10, 0)
MAX_PAGES = 25
# Addresses that are no pages to read: downloads, exports, the API, the single sign-on hand-over, static files.
NOT_PAGES = re.compile(r"^/(documents/|suivi/export\.|api/|auth/|static/|health|aide/captures/)")
IDENTIFIER = re.compile(r"/(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?=/|$)")
# bpmn-js draws the diagrams after the page has loaded: axe-core checks them drawn.
DIAGRAMS_DRAWN = ("() => Array.from(document.querySelectorAll('figure[data-source]'))"
                  ".every(figure => figure.dataset.rendered)")
# From the widest view to the narrowest: a kind of page already checked for a role is only visited (its links
# followed, its status checked) for the next ones; each role's home page, which differs most, is always checked.
ROLES = ["pilote", "gestionnaire.udogec35", "referent.rennes", "tuteur.rennes"]


@pytest.fixture(scope="module")
def campaign_under_way(site):
    """The data of a campaign under way, written through the engine; returns the Brest project's id."""
    with site.sessions() as session:
        runtime = ProcessRuntime(session, RuntimeSettings(site.storage_dir), clock=lambda: datetime(2027, 3, 15, 10, 0))
        to_follow_up(runtime, session)
        brest = start_project(runtime, session, "brest")
        do(runtime, session, brest.id, "referent.brest", "design_project", sample("design_project"))
        organiser = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
        # The session is planned today for next month: its date is checked against the real day.
        runtime.clock = datetime.now
        training = runtime.start("training", principal_of(session, "gestionnaire.udogec35"), structure=organiser)
        do(runtime, session, training.id, "gestionnaire.udogec35", "plan_training",
           sample("plan_training", session_date=(date.today() + timedelta(days=30)).isoformat()))
        brest_id = brest.id
    run_worker(site.sessions, site.storage_dir.parent, FIRST_MONTH)
    return brest_id


def kind_of_page(path: str) -> str:
    """The address with its identifiers blanked: two records of the same kind make one page to check."""
    return IDENTIFIER.sub("/{id}", path)


def links_to_follow(page: Page, origin: str) -> list[str]:
    """Paths (with their query) of the page's same-origin links that lead to pages to read."""
    found = []
    for href in page.eval_on_selector_all("a[href]:not([download])", "links => links.map(a => a.href)"):
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or NOT_PAGES.match(parts.path):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def crawl(page: Page, origin: str, checked: set[str]) -> tuple[int, list[str], list[str]]:
    """Visit every kind of page reachable from the home page and check those not in `checked` (then added).

    Returns the number of pages visited, the paths checked and the problems met: violations, and links that lead
    to an error.
    """
    queue, kinds, visits, newly_checked, problems = [("/", "")], {"/"}, 0, [], []
    while queue and visits < MAX_PAGES:
        path, referrer = queue.pop(0)
        visits += 1
        response = page.goto(path)
        if response.status >= 400:
            problems.append(f"{page.url} : erreur {response.status} par le lien de {referrer}")
            continue
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        kind = kind_of_page(urlsplit(path).path)
        if path == "/" or kind not in checked:
            page.wait_for_function(DIAGRAMS_DRAWN)
            checked.add(kind)
            newly_checked.append(path)
            violations = axe_violations(page)
            if violations:
                problems.append(describe_violations(page.url, violations))
        for link in links_to_follow(page, origin):
            link_kind = kind_of_page(urlsplit(link).path)
            if link_kind not in kinds:
                kinds.add(link_kind)
                queue.append((link, path))
    return visits, newly_checked, problems


@pytest.fixture(scope="module")
def checked_kinds() -> set[str]:
    """Kinds of pages already checked in this module, by whichever role."""
    return set()


@pytest.mark.parametrize("login_name", ROLES)
def test_every_page_a_role_reaches_is_accessible(campaign_under_way, site, page, checked_kinds, login_name):
    login(page, login_name)
    visits, checked, problems = crawl(page, site.url, checked_kinds)
    assert not problems, f"{login_name} :\n" + "\n".join(problems)
    assert "/" in checked and visits >= 6, (visits, checked)
    assert page.errors == []


def test_login_and_error_pages_are_accessible(campaign_under_way, site, page):
    page.goto("/")
    assert urlsplit(page.url).path == "/connexion"
    assert_accessible(page)
    page.get_by_label("Identifiant ou adresse électronique").fill("referent.rennes")
    page.get_by_label("Mot de passe").fill("pas le bon")
    page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page)

    assert page.goto("/page-qui-n-existe-pas").status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    assert_accessible(page)

    login(page, "referent.rennes")
    # Another school's dossier answers as a missing one; a page of another role is refused.
    assert page.goto(f"/dossiers/{campaign_under_way}").status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    assert_accessible(page)
    assert page.goto("/administration/campagnes").status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    assert_accessible(page)


def test_the_check_reports_each_violation_with_its_rule_impact_and_element(page):
    page.set_content('<html><head><title>Essai</title></head><body><main><h1>Essai</h1>'
                     '<input type="text" name="nom"><img src="/static/rien.png"></main></body></html>')
    violations = axe_violations(page)
    assert {"html-has-lang", "label", "image-alt"} <= {v["id"] for v in violations}
    report = describe_violations(page.url, violations)
    assert "label (critical) sur ['input']" in report and "image-alt (critical) sur ['img']" in report
