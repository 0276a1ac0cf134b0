"""JSON errors of the API: one stable shape, French messages, never an HTML page."""
from __future__ import annotations

from flask import jsonify, request

from engine.errors import FieldError, Refusal

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_data",
    429: "too_many_requests",
    500: "internal_error",
}
MESSAGES = {
    400: "La requête est invalide.",
    401: "Authentification requise : envoyez un jeton valide dans l'en-tête « Authorization: Bearer … ».",
    403: "Cette ressource ne relève pas de votre périmètre.",
    404: "Cette ressource n'existe pas.",
    405: "Cette méthode n'est pas autorisée à cette adresse.",
    409: "Cette action n'est plus possible : la situation a changé entre-temps.",
    413: "Le corps de la requête dépasse la taille autorisée.",
    415: "Le corps de la requête doit être du JSON (en-tête « Content-Type: application/json »).",
    422: "Les données envoyées ne sont pas valides.",
    429: "Trop de tentatives : réessayez dans quelques minutes.",
    500: "Erreur interne : rien n'a été enregistré ; réessayez dans un instant.",
}


class ApiError(Refusal):
    """A refusal an API view makes itself (no token, a body it cannot read), with field errors for 422."""

    def __init__(self, status: int, message: str | None = None, errors: list[dict] | None = None):
        super().__init__(message or MESSAGES.get(status, MESSAGES[500]), status=status)
        self.errors = errors or []

    def details(self) -> list[FieldError]:
        """The field errors the view gave."""
        return self.errors


def is_api_request() -> bool:
    """Whether the current request addresses the JSON API."""
    return request.path.startswith("/api/")


def json_error(status: int, message: str | None = None, errors: list[dict] | None = None):
    """The JSON response of an error: status, code, French message and field errors."""
    response = jsonify({
        "status": status,
        "code": CODES.get(status, "error"),
        "message": message or MESSAGES.get(status, MESSAGES[500]),
        "errors": errors or [],
    })
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def refusal_json(refusal: Refusal):
    """The JSON response of a refusal: its status, its French message and its field errors."""
    return json_error(refusal.status, refusal.message, refusal.details())
