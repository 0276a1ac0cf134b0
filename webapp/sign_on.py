"""Logging in through Isidoor: send the browser to the provider, take it back, open the platform session."""
from __future__ import annotations

import time
from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import current_user

from engine.directory.provisioning import ProvisioningRefused, provision, read_identity
from webapp.auth import render_login, safe_next, start_session
from webapp.database import db_session
from webapp.oidc import OidcError, provider_of
from webapp.refusals import answer_refusals

bp = Blueprint("sign_on", __name__, url_prefix="/auth/oidc")
# A login started more than ten minutes ago, or in one of many tabs, must be started again.
FLOW_TTL = 600
MAX_PENDING_FLOWS = 3
NOT_CONFIGURED = "La connexion par Isidoor n'est pas configurée sur cette plateforme."
PROVIDER_ERRORS = {
    "access_denied": "Vous avez annulé la connexion sur Isidoor, ou Isidoor l'a refusée.",
    "login_required": "Isidoor demande que vous vous identifiiez de nouveau : recommencez la connexion.",
    "consent_required": "Isidoor demande votre accord pour transmettre vos informations : recommencez la connexion.",
    "interaction_required": "Isidoor demande que vous vous identifiiez de nouveau : recommencez la connexion.",
    "temporarily_unavailable": "Isidoor est momentanément indisponible : réessayez dans quelques minutes.",
}


def _refusals_on_login_page() -> None:
    # A failed login is told on the login page, where the person tries again.
    answer_refusals(lambda refused: render_login(error=refused.message, status=refused.status),
                    OidcError, ProvisioningRefused)


@bp.route("/connexion")
def start():
    """Send the browser to Isidoor's login page, with a new state, nonce and PKCE challenge."""
    if current_user.is_authenticated:
        return redirect(url_for("inbox.home"))
    provider = provider_of(current_app)
    if provider is None:
        flash(NOT_CONFIGURED, "error")
        return redirect(url_for("auth.login"))
    _refusals_on_login_page()
    url, flow = provider.authorization_request(url_for("sign_on.callback", _external=True))
    flow["next"] = safe_next(request.args.get("next"))
    pending = session.get("oidc_flows")
    pending = pending if isinstance(pending, dict) else {}
    recent = sorted(pending.items(), key=lambda item: item[1].get("at", 0))[-(MAX_PENDING_FLOWS - 1):]
    session["oidc_flows"] = {**dict(recent), flow["state"]: flow}
    return redirect(url)


@bp.route("/callback")
def callback():
    """Take the browser back from Isidoor: check the answer, provision the person, open the session."""
    provider = provider_of(current_app)
    if provider is None:
        flash(NOT_CONFIGURED, "error")
        return redirect(url_for("auth.login"))
    pending = session.get("oidc_flows")
    pending = pending if isinstance(pending, dict) else {}
    flow = pending.pop(request.args.get("state", ""), None)
    session["oidc_flows"] = pending
    if request.args.get("error"):
        code = request.args["error"][:60]
        return render_login(error=PROVIDER_ERRORS.get(code, f"Isidoor a refusé la connexion (code « {code} »). "
                                                           "Réessayez ou adressez-vous au support d'Isidoor."),
                            status=401)
    if not isinstance(flow, dict) or time.time() - flow.get("at", 0) > FLOW_TTL:
        if current_user.is_authenticated:
            return redirect(url_for("inbox.home"))
        return render_login(error="Cette demande de connexion a expiré ou n'a pas été faite depuis ce navigateur. "
                                  "Recommencez la connexion.", status=400)
    # RFC 9207: an answer naming another issuer comes from a mix-up between providers.
    if request.args.get("iss") not in (None, provider.settings.issuer) or not request.args.get("code"):
        return render_login(error="La réponse reçue ne vient pas d'Isidoor. Recommencez la connexion.", status=400)
    _refusals_on_login_page()
    claims, id_token = provider.complete(request.args["code"], flow, url_for("sign_on.callback", _external=True))
    outcome = provision(db_session(), read_identity(claims, provider.settings.claims), datetime.now())
    # The ID token is kept with the session for the logout, which tells Isidoor's end-of-session page which
    # session to end.
    start_session(outcome.person, "isidoor", id_token)
    if outcome.discrepancies:
        flash("Certaines informations transmises par Isidoor diffèrent de l'annuaire de la plateforme : l'annuaire "
              "fait foi, et votre gestionnaire en est informé.", "info")
    return redirect(flow.get("next") or url_for("inbox.home"))
