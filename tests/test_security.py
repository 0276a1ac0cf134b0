"""Web defences: security headers, cookies, password hashes, CSRF on every form, login rate limiting."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.demo.directory import DEMO_PASSWORD
from engine.models import Person
from webapp.config import settings_from_environment

from conftest import ROOT

TEMPLATES = ROOT / "webapp" / "templates"


@pytest.mark.parametrize("path", ["/connexion", "/api/v1/openapi.json", "/api/v1/tasks", "/page-inconnue"])
def test_security_headers_on_pages_api_and_errors(client, path):
    headers = client.get(path).headers
    policy = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                      "object-src 'none'", "base-uri 'none'", "form-action 'self'"):
        assert directive in policy
    assert "unsafe-inline" not in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_templates_have_no_inline_script_style_or_handler():
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.IGNORECASE)
    offending = [str(path.relative_to(ROOT)) for path in TEMPLATES.rglob("*.html") if inline.search(path.read_text())]
    assert offending == []


def test_every_post_form_carries_a_csrf_token():
    form = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.IGNORECASE | re.DOTALL)
    for path in TEMPLATES.rglob("*.html"):
        for body in form.findall(path.read_text()):
            assert 'name="csrf_token"' in body, path


@pytest.mark.parametrize(("path", "data"), [
    ("/connexion", {"login": "referent.rennes", "password": DEMO_PASSWORD}),
    ("/deconnexion", {}),
    ("/dossiers/demarrer/hosting_project", {"establishment_id": "1"}),
    ("/dossiers/demarrer/training", {"structure": "UDOGEC-35"}),
    ("/dossiers/1/relance", {}),
    ("/taches/00000000-0000-0000-0000-000000000000", {}),
])
def test_every_html_post_without_csrf_token_is_refused(browser, path, data):
    browser.login("pilote")
    response = browser.client.post(path, data=data)
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)


def test_session_cookie_is_httponly_samesite_and_secure(browser):
    response = browser.login("referent.rennes")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


@pytest.mark.parametrize(("environment", "secure"), [
    ({}, True),
    ({"DEMO": "1"}, False),
    ({"DEMO": "1", "SESSION_COOKIE_SECURE": "true"}, True),
    ({"SESSION_COOKIE_SECURE": "false"}, False),
])
def test_cookies_are_secure_outside_the_demo(monkeypatch, tmp_path, environment, secure):
    for name in ("DEMO", "SESSION_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SECRET_KEY", "x")
    assert settings_from_environment(Path(tmp_path)).session_cookie_secure is secure


def test_passwords_are_hashed_with_argon2id(session):
    hashes = session.scalars(select(Person.password_hash)).all()
    assert hashes and all(value.startswith("$argon2id$") for value in hashes)


def test_failed_logins_are_limited_per_account_across_form_and_api(browser, client):
    for _ in range(6):
        assert browser.login("referent.rennes", "mauvais").status_code == 401
    for _ in range(4):
        assert client.post("/api/v1/auth/token", json={"login": "referent.rennes", "password": "x"}).status_code == 401
    blocked = browser.login("referent.rennes", DEMO_PASSWORD)
    assert blocked.status_code == 429
    assert "Trop de tentatives de connexion" in blocked.get_data(as_text=True)
    api = client.post("/api/v1/auth/token", json={"login": "referent.rennes", "password": DEMO_PASSWORD})
    assert api.status_code == 429 and api.json["code"] == "too_many_requests"
    assert browser.login("tuteur.rennes", DEMO_PASSWORD).status_code == 302, "another account still logs in"


def test_failed_logins_are_limited_per_address(browser):
    for number in range(30):
        assert browser.login(f"inconnu{number}", "mauvais").status_code == 401
    assert browser.login("inconnu-de-plus", "mauvais").status_code == 429


def test_successful_logins_are_not_counted(browser):
    for _ in range(12):
        assert browser.login("referent.rennes").status_code == 302
        browser.logout()


def test_forms_without_token_count_as_failed_attempts(browser):
    for _ in range(10):
        assert browser.client.post("/connexion", data={"login": "referent.rennes", "password": "x"}).status_code == 400
    assert browser.login("referent.rennes").status_code == 429


@pytest.mark.parametrize("path", ["/dossiers/99999999999999999999", "/documents/99999999999999999999",
                                  "/etablissements/99999999999999999999", "/api/v1/instances/99999999999999999999"])
def test_ids_beyond_the_database_are_not_found(browser, api, path):
    browser.login("pilote")
    assert browser.client.get(path, headers={"Authorization": f"Bearer {api.token('pilote')}"}).status_code == 404
