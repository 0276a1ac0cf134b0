"""In Chromium: log in through the real OpenID Connect provider, then log out of both, as a person would."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from engine.models import Person

from oidc_support import isidoor, live, sso_app  # noqa: F401


@pytest.fixture
def page(chromium):
    """A Chromium page that reaches nothing but loopback (the provider's pages import web fonts)."""
    context = chromium.new_context()
    page = context.new_page()
    page.route("https://**/*", lambda route: route.abort())
    yield page
    context.close()


def test_a_person_logs_in_with_isidoor_and_logs_out_of_both(sso_app, isidoor, live, sessions, page):
    isidoor.set_accounts({"anne": {"isidoor_id": "referent.rennes@isidoor.example.org", "given_name": "Anne",
                                   "family_name": "Le Goff", "phone_number": "02 99 11 22 33",
                                   "roles": ["referent:0350781J"]}})
    page.goto(f"{live.url}/connexion")
    page.get_by_role("link", name="Se connecter avec Isidoor").click()

    assert urlsplit(page.url).netloc == urlsplit(isidoor.issuer).netloc
    page.fill("input[name=login]", "anne")
    page.fill("input[name=password]", "mot-de-passe-isidoor")
    page.click("button[type=submit]")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live.url}/")
    assert page.get_by_role("heading", name="Bonjour Anne").is_visible()
    with sessions() as session:
        anne = session.scalar(select(Person).where(Person.login == "referent.rennes"))
        assert anne.phone == "+33299112233"

    # The logout form leads to Isidoor's end-of-session page: the CSP lets the form go there.
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{isidoor.issuer}/session/end**")
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(f"{live.url}/connexion")
    assert page.get_by_text("Déconnexion de la plateforme effectuée").is_visible()
    page.goto(f"{live.url}/")
    assert urlsplit(page.url).path == "/connexion"
