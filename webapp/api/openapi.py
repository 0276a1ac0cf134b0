"""The OpenAPI 3.1 document of API v1, written by hand and checked against the routes by the tests."""
from __future__ import annotations

import re

from flask import jsonify, request

from engine.models.runtime import INSTANCE_STATUSES
from webapp.api.common import bp, public
from webapp.api.errors import ApiError


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    return {str(status): {"$ref": f"#/components/responses/{status}"} for status in statuses}


def _text(nullable: bool = False, **extra) -> dict:
    return {"type": ["string", "null"] if nullable else "string", **extra}


def _object(properties: dict, required: list[str] | None = None, nullable: bool = False, closed: bool = False) -> dict:
    schema: dict[str, object] = {"type": ["object", "null"] if nullable else "object", "properties": properties,
                                 "required": list(properties) if required is None else required}
    if closed:
        schema["additionalProperties"] = False
    return schema


ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
MOMENT = _text(description="Date et heure ISO 8601, heure locale du serveur.")
MAYBE_MOMENT = _text(nullable=True, description="Date et heure ISO 8601, heure locale du serveur.")
UAI_PATTERN = "^[0-9]{7}[A-Za-z]$"
IDENTIFIER_PATTERN = "^[A-Za-z_][A-Za-z0-9_]{0,99}$"
STRUCTURE_PATTERN = "^[A-Za-z0-9-]{1,40}$"
SCHOOL_YEAR_PATTERN = "^[0-9]{4}-[0-9]{4}$"
DEPARTMENT_PATTERN = "^(?:[0-9]{2,3}|2[ABab])$"
NAME_PATTERN = "^[^\\x00-\\x1f\\x7f]{1,100}$"

SCHEMAS = {
    "Error": _object({
        "status": {"type": "integer"},
        "code": _text(description="Code stable : not_found, forbidden, invalid_data…"),
        "message": _text(description="Message en français, à montrer tel quel."),
        "errors": {"type": "array", "items": _ref("FieldError")},
    }),
    "FieldError": _object({
        "field": _text(nullable=True, description="Champ en cause ; null pour une erreur du formulaire entier."),
        "message": _text(),
    }),
    "TokenRequest": _object({"login": _text(minLength=1), "password": _text(minLength=1)}, closed=True),
    "Token": _object({"token": _text(), "token_type": _text(enum=["Bearer"]), "expires_at": MOMENT}),
    "EstablishmentRef": _object({"id": ID, "uai": _text(), "name": _text()}, nullable=True),
    "TaskSummary": _object({
        "id": _text(format="uuid"), "name": _text(description="Identifiant de la tâche dans le BPMN."),
        "title": _text(), "process": _text(), "instance_id": ID, "instance_title": _text(),
        "role": _text(nullable=True), "establishment": _ref("EstablishmentRef"),
        "place": {"type": ["integer", "null"]}, "created_at": MOMENT, "due_at": MAYBE_MOMENT,
    }),
    "TaskList": _object({"items": {"type": "array", "items": _ref("TaskSummary")}}),
    "TaskDetail": {"allOf": [_ref("TaskSummary"), _object({
        "instructions": _text(),
        "schema": {"type": "object", "description": "JSON Schema du formulaire."},
        "ui_schema": {"type": "object", "description": "Indications d'affichage (react-jsonschema-form)."},
        "data": {"type": "object", "description": "Valeurs déjà saisies, à proposer (un fichier joint y figure "
                                                  "par sa référence : document_id, filename…)."},
        "documents": {"type": "array", "items": _ref("TaskDocument"),
                      "description": "Documents du dossier (de la place de la tâche), les plus récents d'abord."},
    })]},
    "TaskDocument": _object({
        "id": ID, "kind": _text(), "title": _text(), "filename": _text(), "content_type": _text(),
        "version": {"type": ["integer", "null"]}, "current": {"type": "boolean"}, "url": _text(),
    }),
    "ActiveTask": _object({
        "id": _text(format="uuid"), "name": _text(), "title": _text(), "role": _text(nullable=True),
        "place": {"type": ["integer", "null"]}, "actionable": {"type": "boolean"}, "created_at": MOMENT,
        "due_at": MAYBE_MOMENT,
    }),
    "CurrentStep": _object({
        "id": _text(description="Identifiant de la tâche dans le BPMN (review_project…)."),
        "label": _text(description="Nom de l'étape en français, tel que les pages le montrent."),
        "role": _text(nullable=True, description="Couloir : referent, tuteur, accompagnant, gestionnaire."),
        "place": {"type": ["integer", "null"], "description": "Parcours volontaire (1, 2…) ; null hors parcours."},
        "due_at": MAYBE_MOMENT,
    }),
    "InstanceSummary": _object({
        "id": ID, "process": _text(), "title": _text(),
        "status": _text(enum=list(INSTANCE_STATUSES)), "status_label": _text(),
        "outcome": _text(nullable=True),
        "version": {**ID, "description": "Version du processus sur laquelle tourne le dossier : numéro du "
                                         "déploiement, celui que montrent le tableau de suivi et que prend "
                                         "POST /api/v1/instances/{instance_id}/migrate. (Avant, `version` "
                                         "comptait les modifications du dossier : c'est désormais `revision`.)"},
        "revision": {"type": "integer", "minimum": 1,
                     "description": "Compteur des modifications du dossier (verrou optimiste) : il augmente à "
                                    "chaque écriture ; deux lectures de même révision montrent le même état."},
        "campaign": _text(nullable=True),
        "establishment": _ref("EstablishmentRef"), "structure": _text(nullable=True),
        "current_step": _text(nullable=True, description="Noms des étapes en cours, séparés par des virgules."),
        "current_steps": {"type": "array", "items": _ref("CurrentStep"),
                          "description": "Étapes en cours : les tâches utilisateur prêtes, les plus anciennes "
                                         "d'abord."},
        "incident": _text(nullable=True),
        "created_at": MOMENT, "updated_at": MOMENT,
    }),
    "InstanceState": {"allOf": [_ref("InstanceSummary"), _object({
        "tasks": {"type": "array", "items": _ref("ActiveTask")},
        "waiting": {"type": "array", "items": _ref("WaitingEvent"),
                    "description": "Ce que le dossier attend sans qu'une personne ait la main : ses échéances "
                                   "(minuteries BPMN), la plus proche d'abord. Vide pour un dossier suspendu ou "
                                   "terminé."}})]},
    "InstanceResult": _object({"instance": _ref("InstanceState")}),
    "InstancePage": _object({
        "items": {"type": "array", "items": _ref("InstanceSummary")},
        "total": {"type": "integer", "minimum": 0}, "page": ID, "per_page": ID,
    }),
    "HistoryEntry": _object({
        "at": MOMENT, "kind": _text(), "label": _text(), "summary": _text(), "task": _text(nullable=True),
        "actor": _text(nullable=True), "data": {"type": ["object", "null"]},
    }),
    "InstanceDetail": {"allOf": [_ref("InstanceState"), _object({
        "process_name": _text(), "history": {"type": "array", "items": _ref("HistoryEntry")}})]},
    "StartRequest": {"oneOf": [
        _object({"process": _text(const="hosting_project"),
                 "establishment": _text(pattern=UAI_PATTERN, description="UAI de l'établissement.")}, closed=True),
        _object({"process": _text(const="training"),
                 "structure": _text(pattern=STRUCTURE_PATTERN, description="Code de la structure organisatrice.")},
                closed=True),
    ]},
    "Document": _object({
        "id": ID, "kind": _text(), "title": _text(), "filename": _text(), "content_type": _text(),
        "size": {"type": "integer", "minimum": 0}, "sha256": _text(), "created_at": MOMENT, "url": _text(),
    }),
    "DocumentList": _object({"items": {"type": "array", "items": _ref("Document")}}),
    "MissingItem": _object({"field": _text(), "label": _text(), "fix": _text()}),
    "PersonCard": _object({"name": _text(), "role": _text(), "role_label": _text(),
                           "email": _text(nullable=True), "phone": _text(nullable=True)}),
    "EstablishmentSummary": _object({
        "id": ID, "uai": _text(), "name": _text(), "city": _text(nullable=True), "department": _text(),
        "network": _text(description="Réseau : SGEC ou CNEAP."),
        "pupil_count": {"type": ["integer", "null"], "description": "Dernier effectif d'élèves connu."},
        "pupil_count_year": _text(nullable=True, description="Année scolaire de cet effectif (2026-2027)."),
        "complete": {"type": "boolean", "description": "Dossier complet pour la campagne ouverte, où démarrent les "
                                                       "nouveaux projets d'accueil ; sinon GET `url` dit ce qui "
                                                       "manque et qui le corrige."},
        "url": _text(description="Le dossier de l'établissement dans l'API."),
    }),
    "EstablishmentPage": _object({
        "items": {"type": "array", "items": _ref("EstablishmentSummary")},
        "total": {"type": "integer", "minimum": 0}, "page": ID, "per_page": ID,
    }),
    "EstablishmentFile": _object({
        "id": ID, "uai": _text(), "name": _text(), "ogec_name": _text(nullable=True),
        "address": _text(nullable=True), "postal_code": _text(nullable=True), "city": _text(nullable=True),
        "department": _text(), "siret": _text(nullable=True), "phone": _text(nullable=True), "network": _text(),
        "pupil_count": {"type": ["integer", "null"]}, "pupil_count_year": _text(nullable=True),
        "complete": {"type": "boolean"},
        "missing": {"type": "array", "items": _ref("MissingItem")},
        "people": {"type": "array", "items": _ref("PersonCard")},
    }),
}

ERROR_DESCRIPTIONS = {
    400: "Requête illisible : JSON invalide ou paramètre hors format.",
    401: "Jeton absent, inconnu, expiré ou révoqué.",
    403: "Hors du périmètre de l'appelant.",
    404: "Ressource inexistante.",
    409: "Plus possible : tâche déjà traitée, dossier modifié entre-temps ou déjà existant.",
    415: "Le corps n'est pas envoyé en JSON.",
    422: "Données invalides ; `errors` dit quels champs et pourquoi.",
    429: "Trop de tentatives de connexion.",
}

TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": _text(format="uuid")}
INSTANCE_ID = {"name": "instance_id", "in": "path", "required": True, "schema": ID}
DOCUMENT_ID = {"name": "document_id", "in": "path", "required": True, "schema": ID}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


PATHS: dict[str, dict[str, dict]] = {
    "/api/v1/openapi.json": {"get": {
        "summary": "Ce document OpenAPI.", "operationId": "openapi", "tags": ["documentation"], "security": [],
        "responses": {"200": _json({"type": "object"}, "Le document OpenAPI 3.1 de l'API.")},
    }},
    "/api/v1/auth/token": {
        "post": {
            "summary": "Obtenir un jeton d'accès avec un identifiant et un mot de passe.",
            "operationId": "createToken", "tags": ["authentification"], "security": [],
            "requestBody": _body(_ref("TokenRequest")),
            "responses": {"200": _json(_ref("Token"), "Jeton créé (le jeton n'est montré qu'une fois)."),
                          **_errors(400, 401, 403, 415, 422, 429)},
        },
        "delete": {
            "summary": "Révoquer le jeton utilisé pour cette requête.",
            "operationId": "revokeToken", "tags": ["authentification"],
            "responses": {"204": {"description": "Jeton révoqué."}, **_errors(401)},
        },
    },
    "/api/v1/tasks": {"get": {
        "summary": "Les tâches que l'appelant peut accomplir maintenant.", "operationId": "listTasks",
        "tags": ["tâches"], "responses": {"200": _json(_ref("TaskList"), "Tâches, les plus anciennes d'abord."),
                                          **_errors(401)},
    }},
    "/api/v1/tasks/{task_id}": {"get": {
        "summary": "Une tâche à accomplir, avec son formulaire et les valeurs déjà saisies.",
        "operationId": "getTask", "tags": ["tâches"], "parameters": [TASK_ID],
        "responses": {"200": _json(_ref("TaskDetail"), "La tâche et son formulaire."), **_errors(401, 403, 404, 409)},
    }},
    "/api/v1/tasks/{task_id}/complete": {"post": {
        "summary": "Accomplir une tâche avec les données de son formulaire.", "operationId": "completeTask",
        "tags": ["tâches"], "parameters": [TASK_ID],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": {
                "type": "object", "description": "Données conformes au JSON Schema de la tâche ; un champ fichier "
                                                 "(format data-url) reçoit une URL de données base64 ou la "
                                                 "référence {\"document_id\": …} d'un fichier déjà joint."}},
            "multipart/form-data": {"schema": {
                "type": "object", "description": "Les champs en JSON dans la partie « data », un fichier par "
                                                 "partie nommée comme son champ.",
                "properties": {"data": {"type": "string", "description": "Objet JSON des autres champs."}}}},
        }},
        "responses": {"200": _json(_ref("InstanceResult"), "Tâche accomplie ; nouvel état du dossier."),
                      **_errors(400, 401, 403, 404, 409, 415, 422)},
    }},
    "/api/v1/instances": {
        "get": {
            "summary": "Rechercher les dossiers du périmètre de l'appelant.", "operationId": "listInstances",
            "tags": ["dossiers"],
            "parameters": [
                _query("process", _text(pattern=IDENTIFIER_PATTERN), "Processus : hosting_project, training…"),
                _query("status", _text(enum=list(INSTANCE_STATUSES)), "Statut du dossier."),
                _query("step", _text(pattern=IDENTIFIER_PATTERN), "Tâche en attente (identifiant BPMN)."),
                _query("establishment", _text(pattern=UAI_PATTERN), "UAI de l'établissement."),
                _query("territory", _text(pattern=STRUCTURE_PATTERN),
                       "Département (35) ou code de structure (UDOGEC-35)."),
                _query("campaign", _text(pattern=SCHOOL_YEAR_PATTERN),
                       "Campagne : l'année scolaire des missions (2026-2027)."),
                _query("page", {"type": "integer", "minimum": 1, "maximum": 100000}, "Page, à partir de 1."),
                _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Dossiers par page (20)."),
            ],
            "responses": {"200": _json(_ref("InstancePage"), "Une page de dossiers."), **_errors(400, 401)},
        },
        "post": {
            "summary": "Démarrer un projet d'accueil (référent) ou une session de formation (gestionnaire).",
            "operationId": "startInstance", "tags": ["dossiers"], "requestBody": _body(_ref("StartRequest")),
            "responses": {"201": _json(_ref("InstanceResult"), "Dossier démarré."),
                          **_errors(400, 401, 403, 404, 409, 415, 422)},
        },
    },
    "/api/v1/instances/{instance_id}": {"get": {
        "summary": "Un dossier : statut, version du processus, révision, étapes et tâches en cours, historique "
                   "avec les données saisies.",
        "operationId": "getInstance", "tags": ["dossiers"], "parameters": [INSTANCE_ID],
        "responses": {"200": _json(_ref("InstanceDetail"), "Le dossier."), **_errors(401, 403, 404)},
    }},
    "/api/v1/instances/{instance_id}/documents": {"get": {
        "summary": "Les documents d'un dossier.", "operationId": "listDocuments", "tags": ["documents"],
        "parameters": [INSTANCE_ID],
        "responses": {"200": _json(_ref("DocumentList"), "Documents, les plus récents d'abord."),
                      **_errors(401, 403, 404)},
    }},
    "/api/v1/instances/{instance_id}/documents/{document_id}": {"get": {
        "summary": "Télécharger un document.", "operationId": "downloadDocument", "tags": ["documents"],
        "parameters": [INSTANCE_ID, DOCUMENT_ID],
        "responses": {"200": {"description": "Le fichier.",
                              "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                      **_errors(401, 403, 404)},
    }},
    "/api/v1/establishments": {"get": {
        "summary": "Les établissements du périmètre de l'appelant (référent, tuteur, cotuteur : les siens ; "
                   "gestionnaire : ceux de son territoire ; responsable de processus : tous), triés par UAI.",
        "operationId": "listEstablishments", "tags": ["établissements"],
        "parameters": [
            _query("department", _text(pattern=DEPARTMENT_PATTERN), "Département : 35, 2A, 971…"),
            _query("uai", _text(pattern=UAI_PATTERN), "UAI de l'établissement."),
            _query("name", _text(pattern=NAME_PATTERN),
                   "Partie du nom, sans tenir compte des majuscules ni des accents (« sainte-anne »)."),
            _query("page", {"type": "integer", "minimum": 1, "maximum": 100000}, "Page, à partir de 1."),
            _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100},
                   "Établissements par page (20)."),
        ],
        "responses": {"200": _json(_ref("EstablishmentPage"), "Une page d'établissements."), **_errors(400, 401)},
    }},
    "/api/v1/establishments/{uai}": {"get": {
        "summary": "Le dossier d'un établissement, sa complétude et ce qui manque.",
        "operationId": "getEstablishment", "tags": ["établissements"],
        "parameters": [{"name": "uai", "in": "path", "required": True, "schema": _text(pattern=UAI_PATTERN),
                        "example": "0350781J"}],
        "responses": {"200": _json(_ref("EstablishmentFile"), "Le dossier de l'établissement."),
                      **_errors(401, 403, 404)},
    }},
}


# Steering instances (process owners; gestionnaires within their territory): webapp/api/operations.py.
SCHEMAS.update({
    "ReasonRequest": _object({"reason": _text(minLength=1, maxLength=500, description="Motif, gardé dans "
                                              "l'historique du dossier.")}, closed=True),
    "MigrationRequest": _object({"version": {**ID, "description": "Version (déploiement) plus récente."}},
                                closed=True),
    "ReassignRequest": _object({"person_id": {"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1,
                                              "description": "Personne habilitée ; null : toutes."}}, closed=True),
    "Candidate": _object({"person_id": ID, "name": _text(), "role": _text(), "structure": _text(nullable=True)}),
    "CandidateList": _object({"assignee": {"type": ["integer", "null"]},
                              "items": {"type": "array", "items": _ref("Candidate")}}),
})


def _operation(summary: str, operation_id: str, parameter: dict, body: dict | None, statuses: tuple[int, ...],
               ok: str) -> dict:
    operation = {"summary": summary, "operationId": operation_id, "tags": ["pilotage"], "parameters": [parameter],
                 "responses": {"200": _json(_ref("InstanceResult"), ok), **_errors(*statuses)}}
    if body is not None:
        operation["requestBody"] = _body(body)
    return {"post": operation}


PATHS.update({
    "/api/v1/instances/{instance_id}/retry": _operation(
        "Relancer un dossier en incident après correction (responsables de processus).", "retryInstance",
        INSTANCE_ID, None, (401, 403, 404, 409), "Dossier relancé ; `incident` dit si l'erreur persiste."),
    "/api/v1/instances/{instance_id}/suspend": _operation(
        "Suspendre un dossier, avec un motif.", "suspendInstance", INSTANCE_ID, _ref("ReasonRequest"),
        (400, 401, 403, 404, 409, 415, 422), "Dossier suspendu."),
    "/api/v1/instances/{instance_id}/resume": _operation(
        "Reprendre un dossier suspendu.", "resumeInstance", INSTANCE_ID, None, (401, 403, 404, 409),
        "Dossier repris."),
    "/api/v1/instances/{instance_id}/terminate": _operation(
        "Interrompre définitivement un dossier, avec un motif.", "terminateInstance", INSTANCE_ID,
        _ref("ReasonRequest"), (400, 401, 403, 404, 409, 415, 422), "Dossier interrompu."),
    "/api/v1/instances/{instance_id}/migrate": _operation(
        "Faire passer un dossier à une version plus récente de son processus (responsables de processus) ; "
        "409 avec chaque raison quand c'est impossible.", "migrateInstance", INSTANCE_ID,
        _ref("MigrationRequest"), (400, 401, 403, 404, 409, 415, 422), "Dossier migré."),
    "/api/v1/tasks/{task_id}/reassign": _operation(
        "Confier une tâche en attente à une personne habilitée, ou la rendre à toutes.", "reassignTask", TASK_ID,
        _ref("ReassignRequest"), (400, 401, 403, 404, 409, 415, 422), "Tâche réaffectée ; nouvel état du dossier."),
    "/api/v1/tasks/{task_id}/candidates": {"get": {
        "summary": "Les personnes à qui une tâche peut être confiée.", "operationId": "taskCandidates",
        "tags": ["pilotage"], "parameters": [TASK_ID],
        "responses": {"200": _json(_ref("CandidateList"), "Personnes habilitées et personne désignée."),
                      **_errors(401, 403, 404)},
    }},
})

# A dossier's timers (process owners; gestionnaires within their territory): webapp/api/timers.py.
SCHEMAS.update({
    "WaitingEvent": _object({
        "id": _text(format="uuid", description="Identifiant de l'échéance, à donner à …/timers/{timer_id}/fire ou "
                                               "…/reschedule ; une échéance périodique le garde d'une occurrence "
                                               "à la suivante."),
        "kind": _text(enum=["cycle", "date", "duration"],
                      description="cycle : périodique (chaque mois) ; date : à une date ; duration : après un délai."),
        "element": _text(description="Identifiant de l'événement minuterie dans le BPMN (monthly_follow_up…)."),
        "label": _text(description="Ce qui est attendu, en français (propriété waitingLabel du BPMN, sinon le nom "
                                   "de l'événement) : « Prochain suivi mensuel »."),
        "text": _text(description="La phrase des pages : « Prochain suivi mensuel : le 1er novembre 2027 »."),
        "due_at": MOMENT,
    }),
    "FireTimerRequest": _object({"reason": _text(minLength=1, maxLength=500, description="Motif, gardé dans "
                                                 "l'historique du dossier.")}, closed=True),
    "RescheduleTimerRequest": _object({
        "due_at": _text(description="Nouvelle échéance, à venir : date et heure ISO 8601 (2027-11-03T09:00), heure "
                                    "locale du serveur sans décalage indiqué."),
        "reason": _text(minLength=1, maxLength=500, description="Motif, gardé dans l'historique du dossier."),
    }, closed=True),
})
TIMER_ID = {"name": "timer_id", "in": "path", "required": True, "schema": _text(format="uuid"),
            "description": "`id` d'un élément de `waiting`."}


def _timer_operation(summary: str, operation_id: str, body: str, ok: str) -> dict:
    return {"post": {"summary": summary, "operationId": operation_id, "tags": ["pilotage"],
                     "parameters": [INSTANCE_ID, TIMER_ID], "requestBody": _body(_ref(body)),
                     "responses": {"200": _json(_ref("InstanceResult"), ok),
                                   **_errors(400, 401, 403, 404, 409, 415, 422)}}}


PATHS.update({
    "/api/v1/instances/{instance_id}/timers/{timer_id}/fire": _timer_operation(
        "Déclencher maintenant une échéance en attente, avec un motif : le dossier avance comme si la date était "
        "venue (responsables de processus ; gestionnaires du territoire). 409 pour un dossier terminé ou suspendu, "
        "ou une échéance qui n'est plus en attente.", "fireTimer", "FireTimerRequest",
        "Échéance déclenchée ; nouvel état du dossier."),
    "/api/v1/instances/{instance_id}/timers/{timer_id}/reschedule": _timer_operation(
        "Déplacer une échéance en attente (d'une échéance périodique, la prochaine occurrence seulement), avec un "
        "motif (responsables de processus ; gestionnaires du territoire).", "rescheduleTimer",
        "RescheduleTimerRequest", "Échéance déplacée ; nouvel état du dossier."),
})

SPEC = {
    "openapi": "3.1.0",
    "info": {
        "title": "Plateforme de campagne Service Civique — API",
        "version": "1.0.0",
        "description": "API JSON des référents, tuteurs, gestionnaires et responsables de processus. "
                       "Authentification par jeton (POST /api/v1/auth/token), envoyé dans l'en-tête "
                       "« Authorization: Bearer … ». Les erreurs ont toujours la forme `Error`, en français.",
    },
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": SCHEMAS,
        "responses": {str(status): _json(_ref("Error"), text) for status, text in ERROR_DESCRIPTIONS.items()},
    },
}


def documented_query_parameters(rule: str, method: str) -> set[str]:
    """Query parameters the document gives a route (its Flask rule) and method."""
    path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)
    operation = PATHS.get(path, {}).get(method.lower(), {})
    return {parameter["name"] for parameter in operation.get("parameters", []) if parameter.get("in") == "query"}


def refuse_undocumented_query_parameters() -> None:
    """Refuse a query parameter the route does not document: a misspelt filter must not be silently ignored."""
    if request.url_rule is None:
        return
    unknown = sorted(set(request.args) - documented_query_parameters(request.url_rule.rule, request.method))
    if unknown:
        names = ", ".join(f"« {name[:40]} »" for name in unknown[:5])
        raise ApiError(400, f"Paramètre de requête inconnu : {names}.")


for blueprint in (bp, public):
    blueprint.before_request(refuse_undocumented_query_parameters)


@public.get("/openapi.json")
def openapi_document():
    """Serve the OpenAPI document."""
    return jsonify(SPEC)
