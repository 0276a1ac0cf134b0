"""Web sessions end on the server: a cookie copied before the end opens nothing afterwards, however it ended.

Each test copies the session cookie of a logged-in browser, ends the session one way (logout, revoked tokens,
deactivation, a new password, an administrator, inactivity, age) and replays the copy as an attacker would.
Time is the app's settable clock (`CLOCK`), never a sleep. Also: login failures are counted per account,
whichever identifier was typed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select

from engine.demo.directory import DEMO_PASSWORD
from engine.directory.accounts import hash_password
from engine.directory.importing import import_directory
from engine.documents import DocumentStore
from engine.models import Establishment, Person, WebSession
from webapp.auth import SESSION_ID, load_user

from conftest import principal_of

REFERENT = "referent.rennes"
START = datetime(2027, 3, 15, 9, 0)


@dataclass
class Clock:
    """The app's clock, moved by the test."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the time forward."""
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """The time the app reads, starting on a Monday morning."""
    return Clock(START)


@pytest.fixture
def app(database_url, sessions, tmp_path, clock):
    """The web app on the test database, on the test's clock, with the default session limits."""
    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "STORAGE_DIR": tmp_path / "documents",
                      "SECRET_KEY": "test", "CLOCK": clock})
    yield app
    app.extensions["db_engine"].dispose()


def cookie_of(browser) -> str:
    """The session cookie of a browser, as an attacker would copy it."""
    cookie = browser.client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def replay(app, cookie: str, path: str = "/"):
    """Open `path` in another browser that carries the copied cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get(path)


def opens(app, cookie: str, path: str = "/") -> bool:
    """Whether the copied cookie still opens the page (else it is sent to the login page)."""
    response = replay(app, cookie, path)
    if response.status_code == 302 and response.headers["Location"].startswith("/connexion"):
        return False
    assert response.status_code == 200, response.status_code
    return True


def person_id(sessions, login: str) -> int:
    """The id of a demo account."""
    with sessions() as session:
        return session.scalar(select(Person.id).where(Person.login == login))


@pytest.fixture
def dossier(sessions, runtime, tmp_path) -> tuple[int, int]:
    """A hosting project of Rennes with a document attached, as (instance id, document id)."""
    session = runtime.session
    establishment = session.scalar(select(Establishment).where(Establishment.uai == "0350781J"))
    instance = runtime.start("hosting_project", principal_of(session, REFERENT), establishment=establishment,
                             campaign="2026-2027")
    document = DocumentStore(tmp_path / "documents").save(session, instance.id, None, "identity", "Pièce d'identité",
                                                           "identite.pdf", "application/pdf", b"%PDF-1.4 test")
    session.commit()
    return instance.id, document.id


def test_a_cookie_copied_before_logout_opens_neither_dossier_nor_document_afterwards(app, browser, dossier):
    instance_id, document_id = dossier
    browser.login(REFERENT)
    cookie = cookie_of(browser)
    assert opens(app, cookie, f"/dossiers/{instance_id}")
    download = replay(app, cookie, f"/documents/{document_id}")
    download.close()
    assert download.status_code == 200 and download.mimetype == "application/pdf"

    browser.logout()

    assert not opens(app, cookie, f"/dossiers/{instance_id}")
    download = replay(app, cookie, f"/documents/{document_id}")
    assert download.status_code == 302 and download.headers["Location"].startswith("/connexion")
    # Replaying does not bring it back, and the cookie sent back no longer names anyone.
    refused = replay(app, cookie)
    assert refused.status_code == 302
    sent_back = next(value for value in refused.headers.getlist("Set-Cookie") if value.startswith("session="))
    decoded = app.session_interface.get_signing_serializer(app).loads(sent_back.split(";")[0].split("=", 1)[1])
    assert "_user_id" not in decoded and SESSION_ID not in decoded
    assert not opens(app, cookie)


def test_logout_ends_every_session_of_the_person(app, browser, client):
    from conftest import Browser

    laptop = Browser(app.test_client())
    laptop.login(REFERENT)
    browser.login(REFERENT)
    other_person = Browser(app.test_client())
    other_person.login("tuteur.rennes")

    browser.logout()

    assert not opens(app, cookie_of(laptop))
    assert opens(app, cookie_of(other_person)), "another person's session is untouched"
    assert browser.login(REFERENT).status_code == 302, "the person logs in again as usual"


def test_tokens_revoke_ends_web_sessions_too(app, browser, api, sessions):
    browser.login(REFERENT)
    cookie = cookie_of(browser)
    token = api.token(REFERENT)

    result = app.test_cli_runner().invoke(args=["tokens", "revoke", REFERENT])

    assert result.exit_code == 0, result.output
    assert "1 jeton révoqué et 1 session fermée" in result.output
    assert not opens(app, cookie)
    assert api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def deactivate(session, login: str, active: bool = False) -> None:
    """Import a directory record of the person with `active` set."""
    person = session.scalar(select(Person).where(Person.login == login))
    report, _record = import_directory(session, {"people": [{
        "isidoor_id": person.isidoor_id, "first_name": person.first_name, "last_name": person.last_name,
        "email": person.email, "active": active}]}, source="test")
    assert report.changed


def test_deactivation_in_the_directory_ends_sessions_for_good(app, browser, session):
    browser.login(REFERENT)
    cookie = cookie_of(browser)
    deactivate(session, REFERENT)

    assert not opens(app, cookie)
    deactivate(session, REFERENT, active=True)
    assert not opens(app, cookie), "reactivating the account does not reopen its old sessions"
    assert browser.login(REFERENT).status_code == 302


def test_the_directory_command_ends_the_sessions_of_the_people_it_deactivates(app, browser, sessions, tmp_path):
    browser.login(REFERENT)
    cookie = cookie_of(browser)
    with sessions() as session:
        person = session.scalar(select(Person).where(Person.login == REFERENT))
        record = {"isidoor_id": person.isidoor_id, "first_name": person.first_name, "last_name": person.last_name,
                  "email": person.email, "active": False}
    path = tmp_path / "annuaire.json"
    path.write_text(json.dumps({"people": [record]}), encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["directory", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert "1 session fermée de comptes désactivés." in result.output
    # Reactivated before the cookie was ever replayed: the session ended at the import all the same.
    path.write_text(json.dumps({"people": [{**record, "active": True}]}), encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["directory", "import", str(path)]).exit_code == 0
    assert not opens(app, cookie)


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(app, browser, session):
    browser.login(REFERENT)
    cookie = cookie_of(browser)
    person = session.scalar(select(Person).where(Person.login == REFERENT))
    person.password_hash = hash_password("un nouveau mot de passe")
    session.commit()

    assert not opens(app, cookie)
    assert browser.login(REFERENT, "un nouveau mot de passe").status_code == 302
    assert opens(app, cookie_of(browser))


def test_an_administrator_ends_all_sessions_of_an_account(app, browser, api, sessions, clock):
    from conftest import Browser

    browser.login(REFERENT)
    cookie = cookie_of(browser)
    token = api.token(REFERENT)
    admin = Browser(app.test_client())
    admin.login("pilote")
    account = f"/administration/comptes/{person_id(sessions, REFERENT)}"
    found = admin.client.get("/administration/comptes?q=Rennes").get_data(as_text=True)
    assert f'href="{account}"' in found
    page = admin.client.get(account).get_data(as_text=True)
    assert "Sessions ouvertes" in page and "par mot de passe" in page and "Aucune session ouverte" not in page

    clock.advance(minutes=5)
    ended = admin.post_form(f"{account}/fin-des-sessions", {}, page=account)

    assert ended.status_code == 302 and ended.headers["Location"] == account
    assert not opens(app, cookie)
    assert api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    after = admin.client.get(account).get_data(as_text=True)
    assert "1 session fermée, 1 jeton d&#39;API révoqué." in after
    assert "Aucune session ouverte" in after and "Fin de toutes les sessions" in after
    assert opens(app, cookie_of(admin)), "the administrator's own session goes on"


def test_the_sessions_command_ends_all_sessions_of_an_account_named_by_email(app, browser, api):
    browser.login(REFERENT)
    cookie = cookie_of(browser)
    token = api.token(REFERENT)

    result = app.test_cli_runner().invoke(args=["sessions", "end", "REFERENT.rennes@example.org"])

    assert result.exit_code == 0, result.output
    assert "1 session fermée, 1 jeton d'API révoqué." in result.output
    assert not opens(app, cookie)
    assert api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    unknown = app.test_cli_runner().invoke(args=["sessions", "end", "personne"])
    assert unknown.exit_code != 0 and "Aucun compte « personne »" in unknown.output


def test_a_session_ends_after_an_hour_without_a_page(app, browser, clock):
    browser.login(REFERENT)
    cookie = cookie_of(browser)
    clock.advance(minutes=59)
    assert opens(app, cookie)

    clock.advance(minutes=60)

    assert not opens(app, cookie)
    clock.advance(minutes=1)
    assert not opens(app, cookie), "a later page does not bring it back"


def test_a_session_in_use_ends_after_twelve_hours_all_the_same(app, browser, clock):
    browser.login(REFERENT)
    cookie = cookie_of(browser)
    for _ in range(14):
        clock.advance(minutes=50)
        assert opens(app, cookie), clock.now

    clock.advance(minutes=50)

    assert clock.now - START >= timedelta(hours=12)
    assert not opens(app, cookie)


def test_limits_come_from_the_settings(database_url, sessions, tmp_path, clock):
    from webapp import create_app

    from conftest import Browser

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "STORAGE_DIR": tmp_path, "SECRET_KEY": "test",
                      "CLOCK": clock, "SESSION_IDLE_MINUTES": 10, "SESSION_MAX_HOURS": 1})
    browser = Browser(app.test_client())
    browser.login(REFERENT)
    cookie = cookie_of(browser)
    clock.advance(minutes=11)
    assert not opens(app, cookie)
    browser.login(REFERENT)
    cookie = cookie_of(browser)
    for _ in range(6):
        clock.advance(minutes=9)
        assert opens(app, cookie)
    clock.advance(minutes=9)
    assert not opens(app, cookie)
    app.extensions["db_engine"].dispose()


def test_pages_mark_the_session_seen_at_most_once_a_minute(app, browser, sessions, clock):
    browser.login(REFERENT)
    writes = []

    def seen(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE WEB_SESSION"):
            writes.append(statement)

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            clock.advance(seconds=15)
            assert browser.client.get("/").status_code == 200
        assert writes == []
        clock.advance(seconds=15)
        assert browser.client.get("/").status_code == 200
        assert len(writes) == 1
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    with sessions() as session:
        [record] = session.scalars(select(WebSession)).all()
        assert record.last_seen_at == START + timedelta(minutes=1)


@pytest.mark.parametrize("login", [REFERENT, "gestionnaire.udogec35"])
def test_loading_the_logged_in_person_with_their_roles_is_one_read(app, browser, clock, login):
    browser.login(login)
    session_values = {}
    with browser.client.session_transaction() as cookie:
        session_values.update(cookie)
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with app.test_request_context("/"):
            from flask import session

            session.update(session_values)
            user = load_user(session_values["_user_id"])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert user is not None
    assert user.principal.establishments.get("referent") if login == REFERENT else \
        user.principal.structures == {"UDOGEC-35"}
    # The session joined with its person, their roles and each role's structure: every page asks.
    assert len(statements) == 1
    assert "web_session" in statements[0] and "JOIN person" in statements[0] and "role_assignment" in statements[0]


def test_the_cookie_carries_only_the_session_id_and_the_user(browser):
    browser.login(REFERENT)
    with browser.client.session_transaction() as cookie:
        # Beside flask-login's and Flask's own keys, and the CSRF secret of the forms.
        assert set(cookie) <= {"_user_id", "_fresh", "_id", "_permanent", SESSION_ID, "_flashes", "csrf_token"}
        assert len(cookie[SESSION_ID]) >= 40


def test_the_database_keeps_only_a_digest_of_the_session_id(browser, sessions):
    browser.login(REFERENT)
    with browser.client.session_transaction() as cookie:
        session_id = cookie[SESSION_ID]
    with sessions() as session:
        [record] = session.scalars(select(WebSession)).all()
    assert record.id != session_id and session_id not in record.id
    assert record.via == "password" and record.created_at == START


@pytest.mark.parametrize(("failing", "succeeding"), [
    ("referent.rennes", "referent.rennes@example.org"),
    ("REFERENT.Rennes@Example.org", "referent.rennes"),
    (" Referent.Rennes ", "REFERENT.RENNES@EXAMPLE.ORG"),
])
def test_login_failures_count_per_account_whatever_identifier_was_typed(browser, client, failing, succeeding):
    for _ in range(6):
        assert browser.login(failing, "mauvais").status_code == 401
    for _ in range(4):
        assert client.post("/api/v1/auth/token", json={"login": failing, "password": "x"}).status_code == 401

    assert browser.login(succeeding, DEMO_PASSWORD).status_code == 429
    api = client.post("/api/v1/auth/token", json={"login": succeeding, "password": DEMO_PASSWORD})
    assert api.status_code == 429


def test_an_unknown_identifier_is_counted_under_itself(browser):
    for _ in range(10):
        assert browser.login("personne.inconnue@example.org", "mauvais").status_code == 401
    assert browser.login("Personne.Inconnue@example.org", "mauvais").status_code == 429
    assert browser.login(REFERENT, DEMO_PASSWORD).status_code == 302, "real accounts are not slowed down"



def test_rows_of_sessions_long_over_are_deleted_at_the_next_login(app, browser, sessions, clock):
    from conftest import Browser

    browser.login(REFERENT)
    clock.advance(hours=12, days=30)
    Browser(app.test_client()).login("tuteur.rennes")
    with sessions() as session:
        assert len(session.scalars(select(WebSession)).all()) == 2, "kept 30 days after its lifetime"
    clock.advance(minutes=1)
    Browser(app.test_client()).login("tuteur.rennes")
    with sessions() as session:
        logins = session.scalars(select(Person.login).join(WebSession, WebSession.person_id == Person.id)).all()
    assert logins == ["tuteur.rennes", "tuteur.rennes"]
