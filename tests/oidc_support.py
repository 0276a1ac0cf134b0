"""A real OpenID Connect provider on loopback (panva/oidc-provider) and the platform served beside it.

`isidoor` starts tests/oidc_provider/provider.mjs once per module, with a
signing key the tests know (so that they can also forge tokens) and the
platform registered as a client; `live` serves whichever app a test puts in
it on a real port, so that a browser or `requests` can go back and forth
between the two servers as people do.
"""
from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

from conftest import require_node_package

PROVIDER_DIR = Path(__file__).parent / "oidc_provider"
CLIENT_ID = "plateforme-service-civique"
CLIENT_SECRET = "secret-de-test-de-la-plateforme-service-civique"
SCOPES = "openid email phone profile isidoor"


class LiveServer:
    """A WSGI server on a free loopback port, serving the app a test sets."""

    def __init__(self):
        self.app = None
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _dispatch(self, environ, start_response):
        return self.app(environ, start_response)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.thread.join()


@dataclass
class Isidoor:
    """The running provider: its issuer, the key it signs with, and the accounts it knows."""

    issuer: str
    key: RSAKey
    accounts_file: Path

    def set_accounts(self, accounts: dict) -> None:
        """Replace the accounts (id → claims); the provider reads them at every lookup."""
        self.accounts_file.write_text(json.dumps(accounts), encoding="utf-8")


@pytest.fixture(scope="module")
def live():
    """The platform's live server (the app is set by `sso_app`)."""
    server = LiveServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def isidoor(live, tmp_path_factory):
    """The OpenID Connect provider, with the platform registered as a confidential client."""
    require_node_package(PROVIDER_DIR / "node_modules" / "oidc-provider", "Le fournisseur OpenID Connect de test")
    folder = tmp_path_factory.mktemp("isidoor")
    key = RSAKey.generate_key(2048, parameters={"kid": "isidoor-test", "use": "sig", "alg": "RS256"}, private=True)
    accounts = folder / "accounts.json"
    accounts.write_text("{}", encoding="utf-8")
    config = folder / "config.json"
    config.write_text(json.dumps({
        "accounts": str(accounts),
        "signing_key": key.as_dict(private=True),
        "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                     "redirect_uris": [f"{live.url}/auth/oidc/callback"],
                     "post_logout_redirect_uris": [f"{live.url}/connexion"]}],
    }), encoding="utf-8")
    log = (folder / "provider.log").open("w")
    process = subprocess.Popen(["node", str(PROVIDER_DIR / "provider.mjs"), str(config)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=log, text=True)
    drain = None
    try:
        line = process.stdout.readline()
        assert line, f"le fournisseur OpenID Connect n'a pas démarré : {(folder / 'provider.log').read_text()}"
        # Whatever else it prints goes on being read, so that a full pipe never blocks it.
        drain = threading.Thread(target=process.stdout.read, daemon=True)
        drain.start()
        yield Isidoor(json.loads(line)["issuer"], key, accounts)
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if drain is not None:
            drain.join(timeout=10)
        process.stdout.close()
        log.close()


def sso_config(isidoor: Isidoor, **overrides) -> dict:
    """App settings of the platform as Isidoor's client."""
    return {"SESSION_COOKIE_SECURE": False, "OIDC_ISSUER": isidoor.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_SCOPES": SCOPES, "OIDC_CLAIM_ISIDOOR_ID": "isidoor_id",
            "OIDC_CLAIM_GABRIEL_ID": "gabriel_id", "OIDC_CLAIM_EMAIL": "email", "OIDC_CLAIM_PHONE": "phone_number",
            "OIDC_CLAIM_ROLES": "roles", **overrides}


@pytest.fixture
def sso_app(live, isidoor, database_url, sessions, tmp_path):
    """The platform on the test database, configured for Isidoor and served by `live`."""
    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "STORAGE_DIR": tmp_path / "documents",
                      "SECRET_KEY": "test", **sso_config(isidoor)})
    live.app = app
    yield app
    live.app = None
    app.extensions["db_engine"].dispose()


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.buttons: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "id": attrs.get("id"), "fields": {}})
        elif tag == "input" and attrs.get("name") and self.forms:
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value", "")
        elif tag == "button":
            self.buttons.append(attrs)


def first_form(html: str) -> tuple[dict, list[dict]]:
    """The first form of a page (action, fields with their values) and the page's buttons."""
    parser = _Forms()
    parser.feed(html)
    assert parser.forms, f"pas de formulaire dans la page : {html[:500]}"
    return parser.forms[0], parser.buttons


def through_isidoor(http: requests.Session, response: requests.Response, base: str, account: str) -> requests.Response:
    """Fill Isidoor's login and consent pages until the browser is back on the platform."""
    for _ in range(5):
        if response.url.startswith(base):
            return response
        form, _buttons = first_form(response.text)
        data = dict(form["fields"])
        if data.get("prompt") == "login":
            data.update(login=account, password="mot-de-passe-isidoor")
        response = http.post(urljoin(response.url, form["action"]), data=data, timeout=10)
    raise AssertionError(f"toujours chez le fournisseur après cinq pages : {response.url}")


def isidoor_login(http: requests.Session, base: str, account: str) -> requests.Response:
    """Log in to the platform through Isidoor as `account`, as a person clicking the button would."""
    start = http.get(f"{base}/connexion", timeout=10)
    assert "Se connecter avec Isidoor" in start.text
    return through_isidoor(http, http.get(f"{base}/auth/oidc/connexion", timeout=10), base, account)
