"""The OpenAPI 3.1 document of API v1, written by hand and checked against the routes by the tests.

Its paths are here; the schemas, parameters and errors they refer to are in `webapp.api.openapi_schemas`.
"""
from __future__ import annotations

import functools
import re

from flask import jsonify, request

from engine.models.runtime import INSTANCE_STATUSES
from engine.views.queries import ORDERS as INSTANCE_ORDERS
from webapp.api.common import bp, public
from webapp.api.errors import ApiError
from webapp.api.openapi_schemas import (
    DEPARTMENT_PATTERN,
    DOCUMENT_ID,
    ERROR_DESCRIPTIONS,
    IDENTIFIER_PATTERN,
    INSTANCE_ID,
    NAME_PATTERN,
    SCHEMAS,
    SCHOOL_YEAR_PATTERN,
    STRUCTURE_PATTERN,
    TASK_ID,
    TIMER_ID,
    UAI_PATTERN,
    error_responses,
    json_content,
    numbered_page_parameters,
    page_parameters,
    query,
    ref,
    request_body,
    text,
)


def form_data_body(json_description: str) -> dict:
    """A task form's data as a request body: JSON, or multipart with the fields in « data » and a part per file."""
    return {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "description": json_description}},
        "multipart/form-data": {"schema": {
            "type": "object", "description": "Les champs en JSON dans la partie « data », un fichier par partie "
                                             "nommée comme son champ.",
            "properties": {"data": {"type": "string", "description": "Objet JSON des autres champs."}}}},
    }}

PATHS: dict[str, dict[str, dict]] = {
    "/api/v1/openapi.json": {"get": {
        "summary": "Ce document OpenAPI.", "operationId": "openapi", "tags": ["documentation"], "security": [],
        "responses": {"200": json_content({"type": "object"}, "Le document OpenAPI 3.1 de l'API.")},
    }},
    "/api/v1/auth/token": {
        "post": {
            "summary": "Obtenir un jeton d'accès avec un identifiant et un mot de passe.",
            "operationId": "createToken", "tags": ["authentification"], "security": [],
            "requestBody": request_body(ref("TokenRequest")),
            "responses": {"200": json_content(ref("Token"), "Jeton créé (le jeton n'est montré qu'une fois)."),
                          **error_responses(400, 401, 403, 415, 422, 429)},
        },
        "delete": {
            "summary": "Révoquer le jeton utilisé pour cette requête.",
            "operationId": "revokeToken", "tags": ["authentification"],
            "responses": {"204": {"description": "Jeton révoqué."}, **error_responses(401)},
        },
    },
    "/api/v1/tasks": {"get": {
        "summary": "Les tâches que l'appelant peut accomplir maintenant, page par page.", "operationId": "listTasks",
        "description": "Ordre stable : l'échéance la plus proche d'abord (les tâches sans échéance en dernier), puis "
                       "la plus ancienne. Une page commence juste après la dernière tâche de la précédente : une "
                       "tâche accomplie entre deux pages n'en fait ni sauter ni répéter une autre.",
        "tags": ["tâches"],
        "parameters": [
            *page_parameters("Tâches", 50, 200),
            query("step", text(pattern=IDENTIFIER_PATTERN), "Type de tâche (identifiant BPMN : review_project…)."),
            query("campaign", text(pattern=SCHOOL_YEAR_PATTERN),
                  "Campagne : l'année scolaire des missions (2026-2027)."),
        ],
        "responses": {"200": json_content(ref("TaskList"), "Une page de tâches, les plus urgentes d'abord."),
                      **error_responses(400, 401)},
    }},
    "/api/v1/tasks/{task_id}": {"get": {
        "summary": "Une tâche à accomplir, avec son formulaire et les valeurs déjà saisies.",
        "operationId": "getTask", "tags": ["tâches"], "parameters": [TASK_ID],
        "responses": {"200": json_content(ref("TaskDetail"), "La tâche et son formulaire."), **error_responses(401, 403, 404, 409)},
    }},
    "/api/v1/tasks/{task_id}/draft": {
        "get": {
            "summary": "Le brouillon de l'appelant pour une tâche : ce qu'il a saisi sans l'envoyer.",
            "operationId": "getTaskDraft", "tags": ["tâches"], "parameters": [TASK_ID],
            "responses": {"200": json_content(ref("Draft"), "Le brouillon."),
                          **error_responses(401, 403, 404, 409)},
        },
        "put": {
            "summary": "Garder un brouillon de la tâche, sans vérification : il remplace le précédent, est proposé "
                       "à la réouverture de la tâche et effacé quand elle est accomplie ou réaffectée.",
            "operationId": "saveTaskDraft", "tags": ["tâches"], "parameters": [TASK_ID],
            "requestBody": form_data_body("Valeurs saisies (les champs inconnus du formulaire sont ignorés) ; un "
                                          "champ fichier reçoit une URL de données base64 ou la référence "
                                          "{\"document_id\": …} d'un fichier joint."),
            "responses": {"200": json_content(ref("DraftSaved"), "Brouillon gardé."),
                          **error_responses(400, 401, 403, 404, 409, 415)},
        },
    },
    "/api/v1/tasks/{task_id}/complete": {"post": {
        "summary": "Accomplir une tâche avec les données de son formulaire.", "operationId": "completeTask",
        "tags": ["tâches"], "parameters": [TASK_ID],
        # A manual task (« C'est fait ») has no form: it is completed with no body, or `{}`.
        "requestBody": {**form_data_body("Données conformes au JSON Schema de la tâche ; un champ fichier (format "
                                         "data-url) reçoit une URL de données base64 ou la référence "
                                         "{\"document_id\": …} d'un fichier déjà joint. Une tâche manuelle "
                                         "s'accomplit sans corps."), "required": False},
        "responses": {"200": json_content(ref("InstanceResult"), "Tâche accomplie ; nouvel état du dossier."),
                      **error_responses(400, 401, 403, 404, 409, 415, 422)},
    }},
    "/api/v1/processes": {"get": {
        "summary": "Les processus que l'appelant peut démarrer, avec les établissements ou structures possibles.",
        "operationId": "listStartableProcesses", "tags": ["dossiers"],
        "responses": {"200": json_content(ref("StartableProcessList"), "Processus démarrables."),
                      **error_responses(401)},
    }},
    "/api/v1/instances": {
        "get": {
            "summary": "Rechercher les dossiers du périmètre de l'appelant.", "operationId": "listInstances",
            "description": "Ordre stable, le numéro départageant : le dossier modifié le plus récemment d'abord "
                           "(« order=updated », par défaut) ou créé le plus récemment d'abord (« order=created »). "
                           "Une page commence juste après le dernier dossier de la précédente : un dossier créé "
                           "entre deux pages n'en fait ni sauter ni répéter un autre ; par dernière modification, "
                           "un dossier modifié entre deux pages remonte en tête de liste ; par création, chaque "
                           "dossier vient une fois exactement. « total » et « by_status » comptent tous les "
                           "dossiers qui répondent aux filtres.",
            "tags": ["dossiers"],
            "parameters": [
                query("process", text(pattern=IDENTIFIER_PATTERN),
                      "Processus : son identifiant BPMN (voir GET /api/v1/processes)."),
                query("status", text(enum=list(INSTANCE_STATUSES)), "Statut du dossier."),
                query("step", text(pattern=IDENTIFIER_PATTERN), "Tâche en attente (identifiant BPMN)."),
                query("establishment", text(pattern=UAI_PATTERN), "UAI de l'établissement."),
                query("territory", text(pattern=STRUCTURE_PATTERN),
                       "Département (35) ou code de structure (UDOGEC-35)."),
                query("campaign", text(pattern=SCHOOL_YEAR_PATTERN),
                       "Campagne : l'année scolaire des missions (2026-2027)."),
                query("order", text(enum=list(INSTANCE_ORDERS)),
                      "Ordre : « updated » (dernière modification, par défaut) ou « created » (création)."),
                *page_parameters("Dossiers", 20, 100),
                *numbered_page_parameters("« page » et « per_page »"),
            ],
            "responses": {"200": json_content(ref("InstancePage"), "Une page de dossiers."), **error_responses(400, 401)},
        },
        "post": {
            "summary": "Démarrer un processus du catalogue (GET /api/v1/processes) : pour un établissement (UAI), "
                       "une structure (code) ou sans objet, selon le processus.",
            "operationId": "startInstance", "tags": ["dossiers"], "requestBody": request_body(ref("StartRequest")),
            "responses": {"201": json_content(ref("InstanceResult"), "Dossier démarré."),
                          **error_responses(400, 401, 403, 404, 409, 415, 422)},
        },
    },
    "/api/v1/instances/{instance_id}": {"get": {
        "summary": "Un dossier : statut, version du processus, révision, étapes et tâches en cours, historique "
                   "avec les données saisies.",
        "operationId": "getInstance", "tags": ["dossiers"], "parameters": [INSTANCE_ID],
        "responses": {"200": json_content(ref("InstanceDetail"), "Le dossier."), **error_responses(401, 403, 404)},
    }},
    "/api/v1/instances/{instance_id}/documents": {"get": {
        "summary": "Les documents d'un dossier.", "operationId": "listDocuments", "tags": ["documents"],
        "parameters": [INSTANCE_ID],
        "responses": {"200": json_content(ref("DocumentList"), "Documents, les plus récents d'abord."),
                      **error_responses(401, 403, 404)},
    }},
    "/api/v1/instances/{instance_id}/documents/{document_id}": {"get": {
        "summary": "Télécharger un document.", "operationId": "downloadDocument", "tags": ["documents"],
        "parameters": [INSTANCE_ID, DOCUMENT_ID],
        "responses": {"200": {"description": "Le fichier.",
                              "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                      **error_responses(401, 403, 404)},
    }},
    "/api/v1/establishments": {"get": {
        "summary": "Les établissements du périmètre de l'appelant (référent, tuteur, cotuteur : les siens ; "
                   "gestionnaire : ceux de son territoire ; responsable de processus : tous), triés par UAI, une "
                   "page après l'autre (chacun une fois exactement).",
        "operationId": "listEstablishments", "tags": ["établissements"],
        "parameters": [
            query("department", text(pattern=DEPARTMENT_PATTERN), "Département : 35, 2A, 971…"),
            query("uai", text(pattern=UAI_PATTERN), "UAI de l'établissement."),
            query("name", text(pattern=NAME_PATTERN),
                   "Partie du nom, sans tenir compte des majuscules ni des accents (« sainte-anne »)."),
            *page_parameters("Établissements", 20, 100),
            *numbered_page_parameters("« total », « page » et « per_page »"),
        ],
        "responses": {"200": json_content(ref("EstablishmentPage"), "Une page d'établissements."), **error_responses(400, 401)},
    }},
    "/api/v1/establishments/{uai}": {"get": {
        "summary": "Le dossier d'un établissement, sa complétude et ce qui manque.",
        "operationId": "getEstablishment", "tags": ["établissements"],
        "parameters": [{"name": "uai", "in": "path", "required": True, "schema": text(pattern=UAI_PATTERN),
                        "example": "0350781J"}],
        "responses": {"200": json_content(ref("EstablishmentFile"), "Le dossier de l'établissement."),
                      **error_responses(401, 403, 404)},
    }},
}


# Steering instances (process owners; gestionnaires within their territory): webapp/api/operations.py.


def _operation(summary: str, operation_id: str, parameter: dict, body: dict | None, statuses: tuple[int, ...],
               ok: str) -> dict:
    operation = {"summary": summary, "operationId": operation_id, "tags": ["pilotage"], "parameters": [parameter],
                 "responses": {"200": json_content(ref("InstanceResult"), ok), **error_responses(*statuses)}}
    if body is not None:
        operation["requestBody"] = request_body(body)
    return {"post": operation}


PATHS.update({
    "/api/v1/instances/{instance_id}/retry": _operation(
        "Relancer un dossier en incident après correction (responsables de processus).", "retryInstance",
        INSTANCE_ID, None, (401, 403, 404, 409), "Dossier relancé ; `incident` dit si l'erreur persiste."),
    "/api/v1/instances/{instance_id}/rejoin": _operation(
        "Rattacher les parcours terminés qu'un dossier attend sans raison, et le faire avancer (responsables de "
        "processus) ; 409 quand il n'en attend aucun.", "rejoinInstance", INSTANCE_ID, None, (401, 403, 404, 409),
        "Parcours rattachés ; le dossier a avancé."),
    "/api/v1/instances/{instance_id}/suspend": _operation(
        "Suspendre un dossier, avec un motif.", "suspendInstance", INSTANCE_ID, ref("ReasonRequest"),
        (400, 401, 403, 404, 409, 415, 422), "Dossier suspendu."),
    "/api/v1/instances/{instance_id}/resume": _operation(
        "Reprendre un dossier suspendu.", "resumeInstance", INSTANCE_ID, None, (401, 403, 404, 409),
        "Dossier repris."),
    "/api/v1/instances/{instance_id}/terminate": _operation(
        "Interrompre définitivement un dossier, avec un motif.", "terminateInstance", INSTANCE_ID,
        ref("ReasonRequest"), (400, 401, 403, 404, 409, 415, 422), "Dossier interrompu."),
    "/api/v1/instances/{instance_id}/migrate": _operation(
        "Faire passer un dossier à une version plus récente de son processus (responsables de processus) ; "
        "409 avec chaque raison quand c'est impossible.", "migrateInstance", INSTANCE_ID,
        ref("MigrationRequest"), (400, 401, 403, 404, 409, 415, 422), "Dossier migré."),
    "/api/v1/tasks/{task_id}/reassign": _operation(
        "Confier une tâche en attente à une personne habilitée, ou la rendre à toutes.", "reassignTask", TASK_ID,
        ref("ReassignRequest"), (400, 401, 403, 404, 409, 415, 422), "Tâche réaffectée ; nouvel état du dossier."),
    "/api/v1/tasks/{task_id}/candidates": {"get": {
        "summary": "Les personnes à qui une tâche peut être confiée.", "operationId": "taskCandidates",
        "tags": ["pilotage"], "parameters": [TASK_ID],
        "responses": {"200": json_content(ref("CandidateList"), "Personnes habilitées et personne désignée."),
                      **error_responses(401, 403, 404)},
    }},
})

# A dossier's timers (process owners; gestionnaires within their territory): webapp/api/timers.py.


def _timer_operation(summary: str, operation_id: str, body: str, ok: str) -> dict:
    return {"post": {"summary": summary, "operationId": operation_id, "tags": ["pilotage"],
                     "parameters": [INSTANCE_ID, TIMER_ID], "requestBody": request_body(ref(body)),
                     "responses": {"200": json_content(ref("InstanceResult"), ok),
                                   **error_responses(400, 401, 403, 404, 409, 415, 422)}}}


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
        "responses": {str(status): json_content(ref("Error"), text) for status, text in ERROR_DESCRIPTIONS.items()},
    },
}


# Asked at every API request, for a fixed set of routes: answered once per route and method.
@functools.cache
def documented_query_parameters(rule: str, method: str) -> frozenset[str]:
    """Query parameters the document gives a route (its Flask rule) and method."""
    path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)
    operation = PATHS.get(path, {}).get(method.lower(), {})
    return frozenset(parameter["name"] for parameter in operation.get("parameters", [])
                     if parameter.get("in") == "query")


def refuse_undocumented_query_parameters() -> None:
    """Refuse a query parameter the route does not document: a misspelt filter must not be silently ignored."""
    if request.url_rule is None or not request.query_string:
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
