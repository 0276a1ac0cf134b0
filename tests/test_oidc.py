"""Logging in through a real OpenID Connect provider: provisioning, refused tokens, logout, sessions.

The provider is panva/oidc-provider (tests/oidc_provider), started on loopback;
`requests` plays the browser between it and the platform's live server.
"""
from __future__ import annotations

import html
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from itsdangerous.timed import TimestampSigner
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import select

from engine.directory.importing import import_directory
from engine.directory.lookups import tutor_ineligibility
from engine.directory.web_sessions import session_digest
from engine.models import LoginDiscrepancy, Person, WebSession
from webapp.auth import SESSION_ID
from webapp.config import settings_from_environment
from webapp.oidc import OidcError, OidcProvider, OidcSettings, validate_id_token

from oidc_support import CLIENT_ID, first_form, isidoor, isidoor_login, live, sso_app  # noqa: F401

pytestmark = pytest.mark.slow

NEWCOMER = "julien.lemoine@isidoor.example.org"


def person(sessions, isidoor_id: str) -> Person | None:
    """The person with an Isidoor id, read afresh."""
    with sessions() as session:
        return session.scalar(select(Person).where(Person.isidoor_id == isidoor_id))


def discrepancies(sessions, isidoor_id: str) -> list[LoginDiscrepancy]:
    """Differences recorded for a person."""
    with sessions() as session:
        return list(session.scalars(select(LoginDiscrepancy).join(Person)
                                    .where(Person.isidoor_id == isidoor_id).order_by(LoginDiscrepancy.signature)))


def csrf_of(http: requests.Session, url: str) -> str:
    """The CSRF token of a platform page."""
    form, _ = first_form(http.get(url, timeout=10).text)
    return form["fields"]["csrf_token"]


def platform_session(app, http: requests.Session) -> dict:
    """The platform's signed session cookie, decoded as the app reads it."""
    return app.session_interface.get_signing_serializer(app).loads(http.cookies.get("session"))


def stored_id_token(app, sessions, http: requests.Session) -> str | None:
    """The ID token the platform kept with the browser's session, for the logout."""
    with sessions() as session:
        record = session.get(WebSession, session_digest(platform_session(app, http)[SESSION_ID]))
        return record.id_token


def test_first_login_records_a_person_unknown_to_the_directory(sso_app, isidoor, live, sessions):
    isidoor.set_accounts({"nouvelle": {
        "isidoor_id": "Camille.Nouvelle@isidoor.example.org", "given_name": "Camille", "family_name": "Nouvelle",
        "email": "camille.nouvelle@example.org", "email_verified": True, "phone_number": "06 12 34 56 78",
        "roles": ["tuteur:0350781J"]}})
    assert person(sessions, "camille.nouvelle@isidoor.example.org") is None

    http = requests.Session()
    landing = isidoor_login(http, live.url, "nouvelle")

    assert landing.status_code == 200 and urlsplit(landing.url).path == "/"
    assert landing.text.count("Bonjour Camille") == 1
    created = person(sessions, "camille.nouvelle@isidoor.example.org")
    assert (created.login, created.first_name, created.last_name) == (
        "camille.nouvelle@isidoor.example.org", "Camille", "Nouvelle")
    assert (created.email, created.phone, created.password_hash) == (
        "camille.nouvelle@example.org", "+33612345678", None)
    assert created.first_login_at is not None and created.last_login_at == created.first_login_at
    # The claims name her tuteur; only the directory grants roles.
    assert created.roles == []
    [difference] = discrepancies(sessions, created.isidoor_id)
    assert (difference.kind, difference.department) == ("role_not_granted", "35")
    assert "tuteur — 0350781J" in difference.message


def test_first_login_links_the_directory_record_and_a_second_login_updates_the_phone(sso_app, isidoor, live, sessions):
    claims = {"isidoor_id": NEWCOMER, "given_name": "Julien", "family_name": "Lemoine",
              "email": "julien.lemoine@example.org", "phone_number": "+33 6 11 22 33 44",
              "roles": [{"role": "cotuteur", "establishment": "0350781J"}]}
    isidoor.set_accounts({"julien": claims})
    with sessions() as session:
        before = session.scalar(select(Person).where(Person.isidoor_id == NEWCOMER))
        assert tutor_ineligibility(before, before.roles[0]) == "aucune connexion à la plateforme pour l'instant"
        person_id = before.id

    http = requests.Session()
    isidoor_login(http, live.url, "julien")

    with sessions() as session:
        linked = session.get(Person, person_id)
        assert linked.phone == "+33611223344"
        first_login = linked.first_login_at
        assert first_login is not None
        # Connected once: the next directory sync makes him selectable as cotuteur.
        assert tutor_ineligibility(linked, linked.roles[0]).startswith("en attente de la prochaine synchronisation")
    assert discrepancies(sessions, NEWCOMER) == []

    logout = http.post(f"{live.url}/deconnexion", data={"csrf_token": csrf_of(http, f"{live.url}/")}, timeout=10)
    through_isidoor_logout(http, logout, live.url)
    isidoor.set_accounts({"julien": {**claims, "phone_number": "07 98 76 54 32"}})
    isidoor_login(http, live.url, "julien")

    with sessions() as session:
        again = session.get(Person, person_id)
        assert again.phone == "+33798765432"
        assert again.first_login_at == first_login and again.last_login_at > first_login
        # The directory's next sync carries his role: he may now be chosen.
        import_directory(session, {
            "people": [{"isidoor_id": NEWCOMER, "first_name": "Julien", "last_name": "Lemoine",
                        "email": "julien.lemoine@example.org", "phone": "07 98 76 54 32"}],
            "roles": [{"person": NEWCOMER, "role": "cotuteur", "establishment": "0350781J"}]}, source="test")
        synced = session.get(Person, person_id)
        session.refresh(synced)
        assert tutor_ineligibility(synced, synced.roles[0]) is None


def through_isidoor_logout(http: requests.Session, response: requests.Response, base: str) -> requests.Response:
    """Confirm the end of the Isidoor session on its page; return the platform page the browser lands on."""
    assert response.url.startswith(urljoin(response.url, "/session/end")), response.url
    form, buttons = first_form(response.text)
    assert any(button.get("value") == "yes" for button in buttons)
    landing = http.post(urljoin(response.url, form["action"]), data={**form["fields"], "logout": "yes"}, timeout=10)
    assert landing.url.startswith(base)
    return landing


def test_logout_ends_the_platform_session_and_the_isidoor_session(sso_app, isidoor, live, sessions):
    isidoor.set_accounts({"claire": {"isidoor_id": "cotuteur.rennes@isidoor.example.org",
                                     "roles": ["cotuteur:0350781J"]}})
    http = requests.Session()
    isidoor_login(http, live.url, "claire")
    id_token = stored_id_token(sso_app, sessions, http)
    copied = requests.Session()
    copied.cookies.set("session", http.cookies.get("session"))
    assert copied.get(f"{live.url}/", allow_redirects=False, timeout=10).status_code == 200

    logout = http.post(f"{live.url}/deconnexion", data={"csrf_token": csrf_of(http, f"{live.url}/")}, timeout=10)

    # RP-initiated logout: Isidoor's end-of-session page, told which session and where to come back.
    query = parse_qs(urlsplit(logout.history[0].headers["Location"]).query)
    assert urlsplit(logout.history[0].headers["Location"]).path == "/session/end"
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == [f"{live.url}/connexion"]
    landing = through_isidoor_logout(http, logout, live.url)
    assert urlsplit(landing.url).path == "/connexion"
    assert "Déconnexion de la plateforme effectuée" in landing.text
    home = http.get(f"{live.url}/", allow_redirects=False, timeout=10)
    assert home.status_code == 302 and home.headers["Location"].startswith("/connexion")
    # The cookie copied before the logout opens nothing either: the session ended on the server.
    replay = copied.get(f"{live.url}/", allow_redirects=False, timeout=10)
    assert replay.status_code == 302 and replay.headers["Location"].startswith("/connexion")
    # Isidoor's session is over too: the next login asks for the login again.
    again = http.get(f"{live.url}/auth/oidc/connexion", timeout=10)
    assert urlsplit(again.url).netloc == urlsplit(isidoor.issuer).netloc
    assert first_form(again.text)[0]["fields"].get("prompt") == "login"


def test_claims_that_conflict_with_the_directory_upgrade_nobody_and_reach_the_territory(sso_app, isidoor, live,
                                                                                           sessions):
    tuteur = "tuteur.rennes@isidoor.example.org"
    isidoor.set_accounts({"thomas": {"isidoor_id": tuteur,
                                     "roles": ["tuteur:0291652N", "gestionnaire:UDOGEC-35", "chef:0350781J"]}})
    http = requests.Session()
    landing = isidoor_login(http, live.url, "thomas")
    assert "transmises par Isidoor diffèrent" in landing.text

    with sessions() as session:
        roles = {(r.role, r.establishment.uai if r.establishment else None)
                 for r in session.scalar(select(Person).where(Person.isidoor_id == tuteur)).roles}
    assert roles == {("tuteur", "0350781J")}
    found = {(d.kind, d.department, d.structure_code) for d in discrepancies(sessions, tuteur)}
    assert found == {("role_not_granted", "29", None), ("role_not_granted", None, "UDOGEC-35"),
                     ("role_not_claimed", "35", None), ("unreadable_role", "35", None)}
    # The platform gives him nothing more: no Brest project, no gestionnaire page.
    assert http.get(f"{live.url}/ecarts-isidoor", timeout=10).status_code == 403

    seen = {}
    for login in ("gestionnaire.udogec29", "gestionnaire.udogec35", "gestionnaire.fnogec"):
        gestionnaire = requests.Session()
        token = csrf_of(gestionnaire, f"{live.url}/connexion")
        gestionnaire.post(f"{live.url}/connexion", data={"login": login, "password": "demo-campagne",
                                                         "csrf_token": token}, timeout=10)
        page = gestionnaire.get(f"{live.url}/ecarts-isidoor", timeout=10)
        assert page.status_code == 200
        seen[login] = html.unescape(page.text)
    assert seen["gestionnaire.udogec29"].count('id="ecart-') == 1
    assert "Isidoor indique le rôle tuteur — 0291652N" in seen["gestionnaire.udogec29"]
    assert seen["gestionnaire.udogec35"].count('id="ecart-') == 3
    assert "Isidoor indique le rôle gestionnaire — UDOGEC-35" in seen["gestionnaire.udogec35"]
    assert "L'annuaire donne le rôle tuteur — 0350781J, qu'Isidoor ne transmet plus" in seen["gestionnaire.udogec35"]
    assert "Isidoor indique le rôle tuteur — 0291652N" not in seen["gestionnaire.udogec35"]
    assert seen["gestionnaire.fnogec"].count('id="ecart-') == 4

    # Once Isidoor agrees with the directory, the next login resolves every difference.
    logout = http.post(f"{live.url}/deconnexion", data={"csrf_token": csrf_of(http, f"{live.url}/")}, timeout=10)
    through_isidoor_logout(http, logout, live.url)
    isidoor.set_accounts({"thomas": {"isidoor_id": tuteur, "roles": ["tuteur:0350781J"]}})
    isidoor_login(http, live.url, "thomas")
    assert all(d.resolved_at is not None for d in discrepancies(sessions, tuteur))


def test_a_head_of_school_is_recognised_by_gabriel_id(sso_app, isidoor, live, sessions):
    with sessions() as session:
        head = session.scalar(select(Person).where(Person.login == "referent.rennes"))
        head.gabriel_id = "algoff"
        session.commit()
    isidoor.set_accounts({"anne": {"gabriel_id": "ALGoff", "given_name": "Anne", "family_name": "Le Goff",
                                   "roles": ["referent:0350781J"]}})
    http = requests.Session()
    landing = isidoor_login(http, live.url, "anne")
    assert landing.text.count("Bonjour Anne") == 1
    assert "Anne Le Goff" in landing.text
    assert person(sessions, "referent.rennes@isidoor.example.org").last_login_at is not None


def test_claims_that_designate_nobody_are_refused_in_french(sso_app, isidoor, live, sessions):
    isidoor.set_accounts({"anonyme": {"given_name": "Personne"}})
    http = requests.Session()
    page = isidoor_login(http, live.url, "anonyme")
    assert page.status_code == 403
    assert "Isidoor n'a transmis aucun identifiant qui vous désigne" in html.unescape(page.text)
    assert http.get(f"{live.url}/", allow_redirects=False, timeout=10).status_code == 302


def forge(key: RSAKey, claims: dict, kid: str | None = None) -> str:
    """An ID token signed by `key`."""
    return jwt.encode({"alg": "RS256", "kid": kid or key.kid}, claims, key)


FOREIGN_KEY = RSAKey.generate_key(2048, parameters={"kid": "cle-pirate"}, private=True)


@pytest.mark.parametrize(("change", "message"), [
    (lambda c, k: forge(k, {**c, "aud": "une-autre-application"}), "destiné à une autre application"),
    (lambda c, k: forge(k, {**c, "iat": c["iat"] - 7200, "exp": c["iat"] - 3600}), "a expiré"),
    (lambda c, k: forge(FOREIGN_KEY, c, kid=k.kid), "La signature du jeton d'identité est invalide"),
    (lambda c, k: forge(FOREIGN_KEY, c), "signé par une clé qu'Isidoor ne publie pas"),
    (lambda c, k: forge(k, {**c, "iss": "https://faux-isidoor.example.org"}), "et non par Isidoor"),
    (lambda c, k: forge(k, {**c, "nonce": "un-autre-nonce"}), "ne correspond pas à cette demande"),
], ids=["audience", "expire", "signature", "cle-inconnue", "emetteur", "nonce"])
def test_a_refused_id_token_opens_no_session_and_says_why(sso_app, isidoor, live, sessions, monkeypatch, change,
                                                          message):
    """Isidoor's real answer, with its ID token swapped for a forged one on the way back to the platform."""
    from authlib.integrations.requests_client import OAuth2Session

    real_fetch = OAuth2Session.fetch_token

    def tampered(self, *args, **kwargs):
        token = real_fetch(self, *args, **kwargs)
        claims = jwt.decode(token["id_token"], isidoor.key).claims
        token["id_token"] = change(claims, isidoor.key)
        return token

    monkeypatch.setattr(OAuth2Session, "fetch_token", tampered)
    isidoor.set_accounts({"inconnu": {"isidoor_id": "inconnu@isidoor.example.org"}})
    http = requests.Session()
    page = isidoor_login(http, live.url, "inconnu")

    assert page.status_code == 401
    assert message in html.unescape(page.text)
    assert http.get(f"{live.url}/", allow_redirects=False, timeout=10).status_code == 302
    assert person(sessions, "inconnu@isidoor.example.org") is None


def test_the_validation_checks_a_real_token_against_the_real_keys(sso_app, isidoor, live, sessions):
    isidoor.set_accounts({"sophie": {"isidoor_id": "tuteur.brest@isidoor.example.org"}})
    http = requests.Session()
    isidoor_login(http, live.url, "sophie")
    id_token = stored_id_token(sso_app, sessions, http)
    keys = KeySet.import_key_set(requests.get(f"{isidoor.issuer}/jwks", timeout=10).json())
    claims = jwt.decode(id_token, keys).claims
    options = {"issuer": isidoor.issuer, "nonce": claims["nonce"]}

    assert validate_id_token(id_token, keys, client_id=CLIENT_ID, now=time.time(), **options)["sub"] == "sophie"
    with pytest.raises(OidcError, match="destiné à une autre application"):
        validate_id_token(id_token, keys, client_id="autre-client", now=time.time(), **options)
    with pytest.raises(OidcError, match="a expiré"):
        validate_id_token(id_token, keys, client_id=CLIENT_ID, now=claims["exp"] + 61, **options)
    header, payload, signature = id_token.split(".")
    with pytest.raises(OidcError, match="signature du jeton d'identité est invalide"):
        validate_id_token(f"{header}.{payload}.{signature[::-1]}", keys, client_id=CLIENT_ID, now=time.time(),
                          **options)
    with pytest.raises(OidcError, match="illisible"):
        validate_id_token("pas-un-jeton", keys, client_id=CLIENT_ID, now=time.time(), **options)


def test_discovery_is_fetched_on_first_use_then_kept(isidoor, monkeypatch, tmp_path):
    settings = OidcSettings.of(settings_from_environment(tmp_path, {
        "SECRET_KEY": "x", "OIDC_ISSUER": isidoor.issuer, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": "x",
        "OIDC_SCOPES": "email", "OIDC_CLAIM_ISIDOOR_ID": "sub", "OIDC_CLAIM_GABRIEL_ID": "g",
        "OIDC_CLAIM_EMAIL": "email", "OIDC_CLAIM_PHONE": "phone_number", "OIDC_CLAIM_ROLES": "",
        "OIDC_CLOCK_SKEW": 60, "OIDC_TIMEOUT": 5}))
    assert settings is not None
    fetched = []
    real_get = requests.get
    monkeypatch.setattr("webapp.oidc.requests.get", lambda url, **kw: fetched.append(url) or real_get(url, **kw))
    provider = OidcProvider(settings)
    assert fetched == []
    assert settings.scopes == "openid email"
    url, flow = provider.authorization_request("http://127.0.0.1/auth/oidc/callback")
    provider.authorization_request("http://127.0.0.1/auth/oidc/callback")
    assert fetched == [f"{isidoor.issuer}/.well-known/openid-configuration"]
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] == [flow["nonce"]]
    assert query["state"] == [flow["state"]] and len(query["code_challenge"][0]) == 43
    # Without an ID token to hint, the logout names the client.
    end = parse_qs(urlsplit(provider.end_session_url(None, "http://127.0.0.1/connexion")).query)
    assert end == {"client_id": [CLIENT_ID], "post_logout_redirect_uri": ["http://127.0.0.1/connexion"]}


def test_an_unreachable_provider_does_not_stop_the_platform(database_url, sessions, tmp_path):
    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                      "STORAGE_DIR": tmp_path, "OIDC_ISSUER": "http://127.0.0.1:9", "OIDC_CLIENT_ID": CLIENT_ID,
                      "OIDC_CLIENT_SECRET": "x"})
    client = app.test_client()
    assert "Se connecter avec Isidoor" in client.get("/connexion").get_data(as_text=True)
    failed = client.get("/auth/oidc/connexion")
    assert failed.status_code == 502
    assert "Le service de connexion Isidoor ne répond pas" in html.unescape(failed.get_data(as_text=True))
    app.extensions["db_engine"].dispose()


def test_local_accounts_can_be_switched_off(database_url, sessions, tmp_path):
    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", "STORAGE_DIR": tmp_path,
                      "WTF_CSRF_ENABLED": False, "LOCAL_LOGIN_ENABLED": False, "OIDC_ISSUER": "http://127.0.0.1:9",
                      "OIDC_CLIENT_ID": CLIENT_ID})
    client = app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    assert "Se connecter avec Isidoor" in page and 'name="password"' not in page
    refused = client.post("/connexion", data={"login": "pilote", "password": "demo-campagne"})
    assert refused.status_code == 403
    assert "connexion par identifiant et mot de passe est désactivée" in html.unescape(refused.get_data(as_text=True))
    assert client.get("/", follow_redirects=False).status_code == 302
    token = client.post("/api/v1/auth/token", json={"login": "pilote", "password": "demo-campagne"})
    assert token.status_code == 403 and "désactivée" in token.json["message"]
    app.extensions["db_engine"].dispose()


def test_without_isidoor_the_login_page_keeps_the_local_form(client):
    page = client.get("/connexion").get_data(as_text=True)
    assert "Se connecter avec Isidoor" not in page and 'name="password"' in page
    assert client.get("/auth/oidc/connexion").headers["Location"] == "/connexion"


def test_a_return_without_a_pending_login_is_refused(sso_app):
    client = sso_app.test_client()
    response = client.get("/auth/oidc/callback?state=inconnu&code=abc")
    assert response.status_code == 400
    assert "Cette demande de connexion a expiré" in html.unescape(response.get_data(as_text=True))
    denied = client.get("/auth/oidc/callback?error=access_denied&state=x")
    assert "Vous avez annulé la connexion sur Isidoor" in denied.get_data(as_text=True)


def test_sessions_expire_after_their_lifetime(database_url, sessions, tmp_path, monkeypatch):
    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", "STORAGE_DIR": tmp_path,
                      "WTF_CSRF_ENABLED": False, "SESSION_IDLE_MINUTES": 30})
    client = app.test_client()
    login = client.post("/connexion", data={"login": "referent.rennes", "password": "demo-campagne"})
    cookie = next(value for value in login.headers.getlist("Set-Cookie") if value.startswith("session="))
    assert "Expires=" in cookie
    assert client.get("/").status_code == 200
    now = int(time.time())
    # Half an hour and a minute later, the signed session is too old to be read.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 1860)
    expired = client.get("/")
    assert expired.status_code == 302 and expired.headers["Location"].startswith("/connexion")
    app.extensions["db_engine"].dispose()
