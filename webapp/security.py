"""Defences of the web app: rate-limited logins, security headers, the proxy in front.

Login attempts are limited per client address and per account, on the login
form and the API token endpoint together, counting failures only; an account's
counter is the same whether its login or its email address was typed. The
counters live in RATELIMIT_STORAGE_URI: `memory://` is per process, so with
several gunicorn workers or servers use a shared store such as Redis.
"""
from __future__ import annotations

from flask import Flask, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from engine.directory.accounts import find_account
from webapp import auth, sign_on
from webapp.api.common import public as api_public
from webapp.config import settings_of
from webapp.database import db_session
from webapp.oidc import OidcSettings

# No inline script or style anywhere: templates load style.css and *.js files from /static only.
# bpmn-js and dmn-js (the process editor) hold to it unchanged: their production builds need no eval, and they
# set styles through the CSSOM, which the policy allows; the one style attribute dmn-js writes in HTML (its
# watermark's position) is blocked and restated in static/process-editor.css.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

limiter = Limiter(key_func=get_remote_address)


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in routes, bounded to the database's integers: a larger id is a 404, not a failed query."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _failed(response) -> bool:
    # Only failures count: people who log in successfully are never slowed down.
    return response.status_code >= 400


def _account_key() -> str:
    # Read once per request: Flask-Limiter asks for the key of each limit.
    if "login_account_key" not in g:
        g.login_account_key = account_key(_typed_identifier())
    return g.login_account_key


def _typed_identifier() -> str:
    login = request.form.get("login")
    if login is None and request.is_json:
        body = request.get_json(silent=True)
        login = body.get("login") if isinstance(body, dict) else None
    return login if isinstance(login, str) else ""


def account_key(identifier: str) -> str:
    """The counter of login failures an identifier falls under: its person's, whether login or email was typed.

    An identifier that names nobody is counted under itself, in lower case.
    """
    person = find_account(db_session(), identifier[:200]) if identifier.strip() else None
    if person is not None:
        return f"compte:personne:{person.id}"
    return "compte:identifiant:" + identifier.strip().lower()[:200]


def _account_limit() -> str:
    return settings_of().login_rate_limit


def _address_limit() -> str:
    # Higher: a school's staff may share one address behind its router.
    return settings_of().login_rate_limit_per_address


# Blueprints with limits, each set by `_limit_failures`; there are no default limits, so the limiter skips every
# other request.
LIMITED_BLUEPRINTS: set[str] = set()


def _limit_failures(blueprint, limit, scope: str, methods: list[str], **options) -> None:
    LIMITED_BLUEPRINTS.add(blueprint.name)
    limiter.shared_limit(limit, scope=scope, methods=methods, deduct_when=_failed, **options)(blueprint)


def _limit_logins(blueprint) -> None:
    _limit_failures(blueprint, _address_limit, "connexion-adresse", ["POST"])
    _limit_failures(blueprint, _account_limit, "connexion-compte", ["POST"], key_func=_account_key)


_limit_logins(auth.bp)
_limit_logins(api_public)
# Returns from Isidoor are GET requests; failed ones (bad state, refused token) count per address.
_limit_failures(sign_on.bp, _address_limit, "connexion-adresse", ["GET"])


@limiter.request_filter
def _without_limits() -> bool:
    # Every request paid the limiter's look-up of the limits that apply, even where none does.
    return request.blueprint not in LIMITED_BLUEPRINTS


def content_security_policy(app: Flask) -> dict:
    """The app's CSP: with Isidoor configured, forms may also lead there (logout ends on Isidoor's page)."""
    policy = dict(CONTENT_SECURITY_POLICY)
    settings = OidcSettings.of(settings_of(app))
    if settings is not None:
        policy["form-action"] = f"'self' {settings.origin}"
    return policy


def init_app(app: Flask) -> None:
    """Bound route ids, trust the configured proxies, limit login attempts and send the security headers.

    Call before CSRFProtect: a flood of forms with a bad token must count as failed attempts.
    """
    app.url_map.converters["int"] = DatabaseIdConverter
    proxies = settings_of(app).trusted_proxies
    if proxies:
        # Flask documents replacing wsgi_app to add middleware, but types it as a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    limiter.init_app(app)
    Talisman(
        app,
        force_https=settings_of(app).force_https,
        frame_options="DENY",
        content_security_policy=content_security_policy(app),
        referrer_policy="same-origin",
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )
