"""Browser fixtures: the app served on loopback, pages in the session's Chromium, logging in, axe-core checks.

The server is a thread of the test process (werkzeug's `make_server`) on a database prepared once per module
(deployed processes and demo accounts), so that a module can play a whole campaign across its tests.
Chromium is Debian's (never a downloaded build) and reaches nothing but loopback.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect
from sqlalchemy.orm import sessionmaker

from engine.demo.directory import DEMO_PASSWORD

from conftest import prepare_database, require_node_package
from live_server import served_in_thread

HERE = Path(__file__).resolve().parent
AXE_SCRIPT = HERE / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA: what the French accessibility standard (RGAA) refers to.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


@dataclass
class Site:
    """The live app: its address, its database sessions and where it stores documents."""

    url: str
    sessions: sessionmaker
    storage_dir: Path


@pytest.fixture(scope="module")
def site(db_engine, database_url, tmp_path_factory):
    """The app on a freshly prepared database, served on a free loopback port for the whole module."""
    from webapp import create_app

    require_node_package(AXE_SCRIPT, "axe-core")
    sessions = prepare_database(db_engine)
    storage = tmp_path_factory.mktemp("browser") / "documents"
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "STORAGE_DIR": storage,
        "SECRET_KEY": "tests-navigateur",
    })
    with served_in_thread(app) as url:
        yield Site(url, sessions, storage)
    app.extensions["db_engine"].dispose()


# dmn-js 17's production bundle carries Inferno's development build, which says so on the console as an error
# when the page loads: a notice of the library about itself, not a failure of the page.
LIBRARY_NOTICES = ("It looks like you're using a minified copy of the development build of Inferno",)


def is_script_error(message: ConsoleMessage) -> bool:
    """An error the page's scripts report; HTTP statuses (a 422 form, a 403 page) are checked by the tests."""
    return (message.type == "error" and not message.text.startswith("Failed to load resource: the server responded")
            and not message.text.startswith(LIBRARY_NOTICES))


def open_page(chromium: Browser, site: Site) -> Page:
    """A new page in its own context (own cookies): French, loopback only, script errors kept in `page.errors`.

    The context bypasses the Content-Security-Policy only so that axe-core can be injected as a script tag;
    the app itself has no inline script.
    """
    context = chromium.new_context(base_url=site.url, locale="fr-FR", viewport={"width": 1280, "height": 900},
                                   bypass_csp=True, accept_downloads=True)
    context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: page.errors.append(message.text) if is_script_error(message) else None)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


@pytest.fixture
def page(chromium, site):
    """A fresh page, closed (with its context) after the test."""
    page = open_page(chromium, site)
    yield page
    page.context.close()


def login(page: Page, login: str, password: str = DEMO_PASSWORD) -> None:
    """Log in with the login form, as a person would, and land on the home page."""
    page.goto("/connexion")
    page.get_by_label("Identifiant ou adresse électronique").fill(login)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def logout(page: Page) -> None:
    """Log out with the button of the header."""
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()


def field(page: Page, label: str):
    """The form control labelled `label` (a required field's label ends with « * (obligatoire) »)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\*?\s*\(obligatoire\))?$"))


def choose(page: Page, question: str, answer: str) -> None:
    """Tick the radio button `answer` of the group whose legend reads `question`."""
    page.get_by_role("group", name=re.compile(rf"^{re.escape(question)}")).get_by_label(answer, exact=True).check()


def axe_violations(page: Page) -> list[dict]:
    """Serious and critical WCAG 2 A/AA violations that axe-core finds on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate("""tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                         resultTypes: ['violations']})""", AXE_TAGS)
    return [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe_violations(url: str, violations: list[dict]) -> str:
    """One line per violated rule and element: rule id, impact, target selectors, page address."""
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            lines.append(f"{url} : {violation['id']} ({violation['impact']}) sur {node['target']} — "
                         f"{violation['help']}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail with every serious or critical axe-core violation of the page as it is now."""
    violations = axe_violations(page)
    assert not violations, "Violations d'accessibilité :\n" + describe_violations(page.url, violations)
