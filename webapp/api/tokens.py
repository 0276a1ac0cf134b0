"""Bearer tokens: issued for a login and password, revoked by their holder."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import jsonify

from engine.directory.accounts import authenticate
from engine.directory.tokens import issue_token, person_for_token, revoke_token
from webapp.api.common import bearer_token, iso, json_body, public, refuse_unknown_fields
from webapp.api.errors import ApiError
from webapp.config import settings_of
from webapp.database import db_session


@public.post("/auth/token")
def create_token():
    """Check a login and password and return a new token with its expiry."""
    body = json_body()
    refuse_unknown_fields(body, ("login", "password"))
    login, password = body.get("login"), body.get("password")
    errors = [{"field": name, "message": "Ce champ est obligatoire (texte)."}
              for name, value in (("login", login), ("password", password)) if not isinstance(value, str) or not value]
    # The type tests repeat what `errors` found, for the type checker.
    if errors or not isinstance(login, str) or not isinstance(password, str):
        raise ApiError(422, None, errors)
    if not settings_of().local_login_enabled:
        # Passwords are switched off everywhere, here as on the login page (docs/oidc.md).
        raise ApiError(403, "La connexion par identifiant et mot de passe est désactivée sur cette plateforme.")
    person = authenticate(db_session(), login, password)
    if person is None:
        raise ApiError(401, "Identifiant ou mot de passe incorrect.")
    token, record = issue_token(db_session(), person, datetime.now(),
                                timedelta(hours=settings_of().api_token_hours))
    return jsonify({"token": token, "token_type": "Bearer", "expires_at": iso(record.expires_at)})


@public.delete("/auth/token")
def delete_token():
    """Revoke the token the request carries."""
    token = bearer_token()
    if token is None or person_for_token(db_session(), token, datetime.now()) is None:
        raise ApiError(401, None if token is None else "Jeton inconnu, expiré ou révoqué.")
    revoke_token(db_session(), token, datetime.now())
    return "", 204
