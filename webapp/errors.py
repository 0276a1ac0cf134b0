"""French error pages: never a raw error or a crash page.

Every `Refusal` the engine or a view raises is answered here and only here: the French error page with its
status, or its JSON error under /api/. Where a page answers a refusal otherwise (its message flashed on the page
the person is sent back to, a form shown again with its errors), the view says so before it acts
(`webapp.refusals`), and the handler answers that way.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from engine.errors import Refusal
from webapp.api.errors import is_api_request, json_error, refusal_json
from webapp.refusals import declared_answer

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Requête invalide", "La demande n'a pas pu être comprise."),
    403: ("Accès refusé", "Cette page ne relève pas de votre périmètre."),
    404: ("Page introuvable", "Cette page n'existe pas ou plus."),
    405: ("Action impossible", "Cette action n'est pas possible à cette adresse."),
    409: ("Conflit", "Cette action n'est plus possible : la situation a changé entre-temps."),
    413: ("Fichier trop volumineux", "Le fichier envoyé dépasse la taille autorisée."),
    422: ("Saisie invalide", "Les données envoyées ne sont pas valides."),
    429: ("Trop de tentatives", "Trop de tentatives de connexion : réessayez dans quelques minutes."),
    500: ("Erreur interne", "Une erreur inattendue s'est produite. Votre saisie n'a pas été enregistrée ; réessayez dans un instant."),
}


def error_page(status: int, detail: str | None = None, headers: dict | None = None):
    """Render the French error page for a status (a JSON error for the API).

    The request's database session may be in a failed transaction (an aborted PostgreSQL transaction, a cut
    connection): when the page cannot be read through it, it is closed, which ends its transaction, and the page
    is read through a new one. When even that fails (the database is away), a plain page without the header's
    user and figures is answered.
    """
    if is_api_request():
        response = json_error(status, detail)
        response.headers.update(headers or {})
        return response
    title, message = MESSAGES.get(status, MESSAGES[500])
    page = None
    for attempt in ("session de la requête", "nouvelle session"):
        try:
            page = render_template("errors/error.html", title=title, message=detail or message, status=status)
            break
        except Exception:  # a failed transaction, or the database away: try afresh, then say it without them
            log.warning("Page d'erreur %s non rendue (%s)", status, attempt, exc_info=True)
            _close_database_session()
    if page is None:
        # Rendered without the context processors, which read the current user and their notifications.
        page = current_app.jinja_env.get_template("errors/plain.html").render(title=title, message=detail or message)
    return page, status, headers or {}


def _close_database_session() -> None:
    # What the user loader read stays readable: the session's objects are detached, not expired.
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def _headers_of(error: HTTPException) -> dict:
    # Keep what the error tells the client (Allow on 405, Retry-After on 429), not its HTML content type.
    return {name: value for name, value in error.get_headers() if name.lower() != "content-type"}


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    for status in MESSAGES:
        app.register_error_handler(status, lambda error, status=status: error_page(status, headers=_headers_of(error)))
    app.register_error_handler(HTTPException, _other_http_error)
    app.register_error_handler(Refusal, _refused)
    app.register_error_handler(
        CSRFError,
        lambda error: error_page(400, "Le formulaire a expiré ou n'est pas valide : rechargez la page et recommencez."),
    )


def _other_http_error(error: HTTPException):
    # Statuses without a page of their own keep Werkzeug's response, except in the API, which answers JSON.
    if is_api_request():
        return error_page(error.code or 500, headers=_headers_of(error))
    return error


def _refused(refusal: Refusal) -> ResponseReturnValue:
    # The engine rolled back before refusing: whatever answers reads the database as it was.
    answer = declared_answer(refusal)
    if answer is not None:
        return answer(refusal)
    if is_api_request():
        return refusal_json(refusal)
    return error_page(refusal.status, refusal.message)
