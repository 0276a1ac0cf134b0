"""Fixtures: a migrated database (SQLite, or PostgreSQL with TEST_DATABASE_URL), demo data, app, client."""
from __future__ import annotations

import io
import json
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from engine.access import Principal
from engine.db import Base, make_engine, make_session_factory, scratch_postgres_database, upgrade_database
from engine.demo.directory import DEMO_PASSWORD, load_demo_data
from engine.models import Person
from engine.runtime.deployment import deploy, read_definition_files
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings
from engine.runtime.workflow_cache import WORKFLOWS
from engine.uploads import parse_data_url

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium, never a downloaded build; without the background networking it would try to reach
# Google's hosts at every start, which this machine's closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update"]
SAMPLES = json.loads((Path(__file__).parent / "form_samples.json").read_text(encoding="utf-8"))


def postgresql_only(why: str):
    """Mark tests of PostgreSQL's own behaviour: they run in the suite's PostgreSQL pass (`make test`), not on
    SQLite, which has no such thing (`why`)."""
    return pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                              reason=f"PostgreSQL only: {why}")


def pytest_collection_modifyitems(items):
    """Mark every test that drives Chromium as `browser`, so that `make test-fast` can leave them out."""
    for item in items:
        if "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


def require_node_package(marker: Path, what: str) -> None:
    """Fail at once, in French, when an npm package the test needs was not installed by the Makefile."""
    if not marker.exists():
        pytest.fail(f"{what} n'est pas installé ({marker} manque) : lancez « make test », qui l'installe "
                    "depuis son fichier de verrouillage npm.", pytrace=False)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole test session; each test opens its own context."""
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium manque ({CHROMIUM}) : « sudo apt-get install -y chromium », "
                    "ou lancez « make test », qui vérifie les prérequis.", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """URL of a fresh database migrated to head, dropped at the end."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        upgrade_database(url)
        yield url
        return
    with scratch_postgres_database(base, "sc_test") as url:
        upgrade_database(url)
        yield url


@pytest.fixture(scope="session")
def db_engine(database_url):
    """Engine of the test database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def deployed_database(db_engine):
    """Empty the database and deploy the processes, with no directory nor campaign; return a session factory."""
    with db_engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    # Ids are given again once their rows are gone: workflows kept for the previous test's instances must go too.
    WORKFLOWS.clear()
    factory = make_session_factory(db_engine)
    with factory() as session:
        deploy(session, read_definition_files(ROOT / "processes", ROOT / "forms"), actor="tests")
        session.commit()
    return factory


def prepare_database(db_engine):
    """Empty the database, deploy the processes, load the demo data; return a session factory."""
    factory = deployed_database(db_engine)
    with factory() as session:
        load_demo_data(session)
    return factory


@pytest.fixture
def sessions(db_engine):
    """Session factory on a database emptied, then filled with the deployed processes and demo data."""
    return prepare_database(db_engine)


@pytest.fixture
def session(sessions):
    """A session on the prepared database."""
    with sessions() as session:
        yield session


@pytest.fixture
def runtime(session, tmp_path):
    """The process runtime on the test session, with documents in a temporary directory."""
    return ProcessRuntime(session, RuntimeSettings(tmp_path / "documents"), clock=lambda: datetime(2027, 3, 15, 10, 0))


def principal_of(session, login: str) -> Principal:
    """Scopes of a demo account."""
    return Principal.of(session.scalar(select(Person).where(Person.login == login)))


@pytest.fixture
def app(database_url, sessions, tmp_path):
    """The web app on the test database."""
    from webapp import create_app

    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "STORAGE_DIR": tmp_path / "documents",
        "SECRET_KEY": "test",
    })
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/connexion") -> str:
    """The CSRF token a page gives, as a browser would read it."""
    page = client.get(path)
    match = CSRF.search(page.get_data(as_text=True))
    assert match, f"pas de jeton CSRF sur {path}"
    return match.group(1)


class Browser:
    """A test client used as a person would: log in, open pages, submit forms with their token."""

    def __init__(self, client):
        self.client = client

    def login(self, login: str, password: str = DEMO_PASSWORD):
        """Log in with the login form."""
        self.client.get("/connexion")
        token = csrf_token(self.client)
        return self.client.post("/connexion", data={"login": login, "password": password, "csrf_token": token})

    def logout(self):
        """Log out with the button of every page."""
        token = csrf_token(self.client, "/")
        return self.client.post("/deconnexion", data={"csrf_token": token})

    def post_form(self, path: str, data: dict, page: str | None = None):
        """Submit a form found on `page` (default: `path`) with its CSRF token."""
        token = csrf_token(self.client, page or path)
        return self.client.post(path, data={**data, "csrf_token": token})


@pytest.fixture
def browser(client):
    """A person at the keyboard."""
    return Browser(client)


class ApiClient:
    """A program using the JSON API: one bearer token per login, JSON in and out."""

    def __init__(self, client):
        self.client = client
        self.tokens: dict[str, str] = {}

    def token(self, login: str) -> str:
        """A token for a demo account, asked once."""
        if login not in self.tokens:
            response = self.client.post("/api/v1/auth/token", json={"login": login, "password": DEMO_PASSWORD})
            assert response.status_code == 200, response.get_data(as_text=True)
            self.tokens[login] = response.json["token"]
        return self.tokens[login]

    def call(self, method: str, path: str, login: str | None = None, **kwargs):
        """Send a request as `login` (anonymous when None)."""
        headers = {"Authorization": f"Bearer {self.token(login)}"} if login else {}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, login: str | None = None, **kwargs):
        """GET as `login`."""
        return self.call("GET", path, login, **kwargs)

    def post(self, path: str, login: str | None = None, json=None, **kwargs):
        """POST JSON as `login`."""
        return self.call("POST", path, login, json=json, **kwargs)


@pytest.fixture
def api(client):
    """A JSON API client."""
    return ApiClient(client)


def as_form(data: dict) -> dict:
    """Browser form fields for a submission: what the inputs would send (files, given as data URLs, as uploads)."""
    fields = {}
    for name, value in data.items():
        if isinstance(value, str) and value.startswith("data:"):
            upload = parse_data_url(value)
            fields[name] = (io.BytesIO(upload.content), upload.filename)
        elif isinstance(value, bool):
            fields[name] = "true" if value else "false"
        elif isinstance(value, float):
            fields[name] = str(value).replace(".", ",")
        else:
            fields[name] = str(value)
    return fields
