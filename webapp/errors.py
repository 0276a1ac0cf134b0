"""French error pages: never a raw error or a crash page."""
from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError

from engine.access import Forbidden
from engine.runtime import Conflict, NotFound

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Requête invalide", "La demande n'a pas pu être comprise."),
    403: ("Accès refusé", "Cette page ne relève pas de votre périmètre."),
    404: ("Page introuvable", "Cette page n'existe pas ou plus."),
    405: ("Action impossible", "Cette action n'est pas possible à cette adresse."),
    409: ("Conflit", "Cette action n'est plus possible : la situation a changé entre-temps."),
    413: ("Fichier trop volumineux", "Le fichier envoyé dépasse la taille autorisée."),
    500: ("Erreur interne", "Une erreur inattendue s'est produite. Votre saisie n'a pas été enregistrée ; réessayez dans un instant."),
}


def error_page(status: int, detail: str | None = None):
    """Render the French error page for a status."""
    title, message = MESSAGES.get(status, MESSAGES[500])
    return render_template("errors/error.html", title=title, message=detail or message, status=status), status


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    for status in MESSAGES:
        app.register_error_handler(status, lambda error, status=status: error_page(status))
    app.register_error_handler(Forbidden, lambda error: error_page(403, str(error)))
    app.register_error_handler(NotFound, lambda error: error_page(404, str(error)))
    app.register_error_handler(Conflict, lambda error: error_page(409, str(error)))
    app.register_error_handler(
        CSRFError,
        lambda error: error_page(400, "Le formulaire a expiré ou n'est pas valide : rechargez la page et recommencez."),
    )
