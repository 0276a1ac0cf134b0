"""What every API view shares: the blueprints, bearer-token authentication, strict input parsing."""
from __future__ import annotations

import json
import math
import re
from datetime import datetime

from flask import Blueprint, current_app, g, request

from engine.access import Principal
from engine.directory.tokens import principal_for_token
from engine.runtime.runtime import ProcessRuntime
from webapp.api.errors import ApiError
from webapp.config import runtime_settings_of
from webapp.database import db_session

# Routes needing a token; `public` holds the OpenAPI document and the token endpoints.
bp = Blueprint("api", __name__, url_prefix="/api/v1")
public = Blueprint("api_public", __name__, url_prefix="/api/v1")

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UAI = re.compile(r"^[0-9]{7}[A-Za-z]$")


def bearer_token() -> str | None:
    """The token of the `Authorization: Bearer …` header, if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


@bp.before_request
def authenticate() -> None:
    """Identify the caller of every protected route by their bearer token."""
    token = bearer_token()
    found = principal_for_token(db_session(), token, datetime.now()) if token else None
    if found is None:
        raise ApiError(401, None if token is None else "Jeton inconnu, expiré ou révoqué : demandez-en un nouveau.")
    g.api_principal = found


def principal() -> Principal:
    """Scopes of the caller."""
    return g.api_principal


def runtime() -> ProcessRuntime:
    """The process runtime bound to this request's session."""
    return ProcessRuntime(db_session(), runtime_settings_of(current_app))


def iso(moment: datetime | None) -> str | None:
    """A date and time as ISO 8601 text (server local time), or None."""
    return moment.isoformat(timespec="seconds") if moment is not None else None


def checked_uuid(value: str) -> str:
    """A task id from the path; anything else than a UUID cannot exist."""
    if not UUID.match(value):
        raise ApiError(404, "Cette tâche n'existe pas.")
    return value


def _reject_constant(name: str):
    raise ValueError(f"valeur non autorisée : {name}")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("nombre hors limites")
    return number


def json_body() -> dict:
    """The request's JSON object; 415 when not JSON, 400 when unreadable or not an object."""
    if not request.is_json:
        raise ApiError(415)
    try:
        body = json.loads(request.get_data(as_text=True), parse_constant=_reject_constant,
                          parse_float=_finite_float)
    except (ValueError, RecursionError):
        raise ApiError(400, "Le corps de la requête n'est pas du JSON valide.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Le corps de la requête doit être un objet JSON.")
    return body


def refuse_unknown_fields(body: dict, known: tuple[str, ...]) -> None:
    """Raise a 422 naming the fields of a request body that the endpoint does not know."""
    unknown = sorted(name for name in body if name not in known)
    if unknown:
        raise ApiError(422, None, [{"field": None, "message": "Champ inconnu : " + ", ".join(unknown)[:200] + "."}])


def query_text(name: str, pattern: re.Pattern | None = None, choices=None) -> str | None:
    """A text query parameter checked against a pattern or a set of choices; None when absent."""
    value = request.args.get(name)
    if value is None:
        return None
    if (pattern is not None and not pattern.match(value)) or (choices is not None and value not in choices):
        raise ApiError(400, f"Paramètre « {name} » invalide : « {value[:60]} ».")
    return value


def query_int(name: str, default: int, minimum: int, maximum: int) -> int:
    """An integer query parameter within bounds."""
    value = request.args.get(name)
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or not minimum <= int(value) <= maximum:
        raise ApiError(400, f"Paramètre « {name} » invalide : un entier de {minimum} à {maximum} est attendu.")
    return int(value)
