"""The pieces of the OpenAPI document: schema helpers, the JSON schemas of the API, its parameters and errors."""
from __future__ import annotations

from engine.models.runtime import INSTANCE_STATUSES


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error_responses(*statuses: int) -> dict:
    return {str(status): {"$ref": f"#/components/responses/{status}"} for status in statuses}


def text(nullable: bool = False, **extra) -> dict:
    return {"type": ["string", "null"] if nullable else "string", **extra}


def obj(properties: dict, required: list[str] | None = None, nullable: bool = False, closed: bool = False) -> dict:
    schema: dict[str, object] = {"type": ["object", "null"] if nullable else "object", "properties": properties,
                                 "required": list(properties) if required is None else required}
    if closed:
        schema["additionalProperties"] = False
    return schema


ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
MOMENT = text(description="Date et heure ISO 8601, heure locale du serveur.")
MAYBE_MOMENT = text(nullable=True, description="Date et heure ISO 8601, heure locale du serveur.")
UAI_PATTERN = "^[0-9]{7}[A-Za-z]$"
IDENTIFIER_PATTERN = "^[A-Za-z_][A-Za-z0-9_]{0,99}$"
STRUCTURE_PATTERN = "^[A-Za-z0-9-]{1,40}$"
SCHOOL_YEAR_PATTERN = "^[0-9]{4}-[0-9]{4}$"
DEPARTMENT_PATTERN = "^(?:[0-9]{2,3}|2[ABab])$"
NAME_PATTERN = "^[^\\x00-\\x1f\\x7f]{1,100}$"

SCHEMAS = {
    "Error": obj({
        "status": {"type": "integer"},
        "code": text(description="Code stable : not_found, forbidden, invalid_data…"),
        "message": text(description="Message en français, à montrer tel quel."),
        "errors": {"type": "array", "items": ref("FieldError")},
    }),
    "FieldError": obj({
        "field": text(nullable=True, description="Champ en cause ; null pour une erreur du formulaire entier."),
        "message": text(),
    }),
    "TokenRequest": obj({"login": text(minLength=1), "password": text(minLength=1)}, closed=True),
    "Token": obj({"token": text(), "token_type": text(enum=["Bearer"]), "expires_at": MOMENT}),
    "EstablishmentRef": obj({"id": ID, "uai": text(), "name": text()}, nullable=True),
    "TaskSummary": obj({
        "id": text(format="uuid"), "name": text(description="Identifiant de la tâche dans le BPMN."),
        "title": text(), "process": text(), "instance_id": ID, "instance_title": text(),
        "role": text(nullable=True), "establishment": ref("EstablishmentRef"),
        "place": {"type": ["integer", "null"]}, "created_at": MOMENT, "due_at": MAYBE_MOMENT,
    }),
    "TaskList": obj({
        "items": {"type": "array", "items": ref("TaskSummary")},
        "limit": {"type": "integer", "minimum": 1, "maximum": 200},
        "next_cursor": text(nullable=True, description="Curseur opaque de la page suivante (paramètre « cursor »), "
                                                       "null après la dernière page."),
        "next": text(nullable=True, description="Adresse de la page suivante, avec les mêmes filtres ; null après "
                                                "la dernière page."),
    }),
    "TaskDetail": {"allOf": [ref("TaskSummary"), obj({
        "instructions": text(description="Consignes de la tâche, en Markdown, rendues avec les données du dossier."),
        "context": {"type": "array", "items": ref("ContextSection"),
                    "description": "Ce qu'il faut avoir sous les yeux pour décider (réponses antérieures, fiche "
                                   "de l'établissement, demandes précédentes), tel que la page le montre au-dessus "
                                   "du formulaire : déclaré par « ui:context » dans les indications d'affichage."},
        "schema": {"type": "object", "description": "JSON Schema du formulaire."},
        "ui_schema": {"type": "object", "description": "Indications d'affichage (react-jsonschema-form)."},
        "data": {"type": "object", "description": "Valeurs à proposer : le brouillon de l'appelant s'il en a un, "
                                                  "sinon les valeurs initiales (un fichier joint y figure par sa "
                                                  "référence : document_id, filename…)."},
        "draft": {**obj({"saved_at": MOMENT}, nullable=True),
                  "description": "Brouillon de l'appelant dont viennent les valeurs, ou null."},
        "documents": {"type": "array", "items": ref("TaskDocument"),
                      "description": "Documents du dossier (de la place de la tâche), les plus récents d'abord."},
    })]},
    "ContextSection": obj({
        "title": text(), "note": text(nullable=True, description="Quand et par qui, pour une réponse antérieure."),
        "lines": {"type": "array", "items": obj({
            "label": text(), "text": text(),
            "document_id": {**ID, "type": ["integer", "null"],
                            "description": "Document du dossier que la ligne désigne (contrat signé…), ou null."},
        })},
    }),
    "Draft": obj({
        "data": {"type": "object", "description": "Valeurs gardées, non vérifiées ; les fichiers par leur référence."},
        "saved_at": MOMENT,
    }),
    "DraftSaved": obj({
        "data": {"type": "object", "description": "Valeurs gardées, non vérifiées ; les fichiers par leur référence."},
        "saved_at": MOMENT,
        "refused_files": {"type": "array", "items": obj({"field": text(), "message": text()}),
                          "description": "Fichiers non gardés (type ou taille refusés), par champ."},
    }),
    "TaskDocument": obj({
        "id": ID, "kind": text(), "title": text(), "filename": text(), "content_type": text(),
        "version": {"type": ["integer", "null"]}, "current": {"type": "boolean"}, "url": text(),
    }),
    "ActiveTask": obj({
        "id": text(format="uuid"), "name": text(), "title": text(), "role": text(nullable=True),
        "place": {"type": ["integer", "null"]}, "actionable": {"type": "boolean"}, "created_at": MOMENT,
        "due_at": MAYBE_MOMENT,
    }),
    "CurrentStep": obj({
        "id": text(description="Identifiant de la tâche dans le BPMN (review_project…)."),
        "label": text(description="Nom de l'étape en français, tel que les pages le montrent."),
        "role": text(nullable=True, description="Couloir : referent, tuteur, accompagnant, gestionnaire."),
        "place": {"type": ["integer", "null"], "description": "Parcours volontaire (1, 2…) ; null hors parcours."},
        "due_at": MAYBE_MOMENT,
    }),
    "InstanceSummary": obj({
        "id": ID, "process": text(), "title": text(),
        "status": text(enum=list(INSTANCE_STATUSES)), "status_label": text(),
        "outcome": text(nullable=True),
        "version": {**ID, "description": "Version du processus sur laquelle tourne le dossier : numéro du "
                                         "déploiement, celui que montrent le tableau de suivi et que prend "
                                         "POST /api/v1/instances/{instance_id}/migrate. (Avant, `version` "
                                         "comptait les modifications du dossier : c'est désormais `revision`.)"},
        "revision": {"type": "integer", "minimum": 1,
                     "description": "Compteur des modifications du dossier (verrou optimiste) : il augmente à "
                                    "chaque écriture ; deux lectures de même révision montrent le même état."},
        "campaign": text(nullable=True),
        "establishment": ref("EstablishmentRef"), "structure": text(nullable=True),
        "current_step": text(nullable=True, description="Noms des étapes en cours, séparés par des virgules."),
        "current_steps": {"type": "array", "items": ref("CurrentStep"),
                          "description": "Étapes en cours : les tâches utilisateur prêtes, les plus anciennes "
                                         "d'abord."},
        "incident": text(nullable=True),
        "created_at": MOMENT, "updated_at": MOMENT,
    }),
    "InstanceState": {"allOf": [ref("InstanceSummary"), obj({
        "tasks": {"type": "array", "items": ref("ActiveTask")},
        "waiting": {"type": "array", "items": ref("WaitingEvent"),
                    "description": "Ce que le dossier attend sans qu'une personne ait la main : ses échéances "
                                   "(minuteries BPMN), la plus proche d'abord. Vide pour un dossier suspendu ou "
                                   "terminé."}})]},
    "InstanceResult": obj({"instance": ref("InstanceState")}),
    "InstancePage": obj({
        "items": {"type": "array", "items": ref("InstanceSummary")},
        "total": {"type": "integer", "minimum": 0, "description": "Dossiers qui répondent aux filtres, en tout."},
        "by_status": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 1},
                      "description": "Dossiers qui répondent aux filtres, par statut (le filtre « status » "
                                     "mis à part)."},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
        "next_cursor": text(nullable=True, description="Curseur opaque de la page suivante (paramètre « cursor »), "
                                                       "null après la dernière page."),
        "next": text(nullable=True, description="Adresse de la page suivante, avec les mêmes filtres ; null après "
                                                "la dernière page."),
        "page": {**ID, "deprecated": True}, "per_page": {**ID, "deprecated": True},
    }, required=["items", "total"]),
    "HistoryEntry": obj({
        "at": MOMENT, "kind": text(), "label": text(), "summary": text(), "task": text(nullable=True),
        "actor": text(nullable=True), "data": {"type": ["object", "null"]},
    }),
    "InstanceDetail": {"allOf": [ref("InstanceState"), obj({
        "process_name": text(), "history": {"type": "array", "items": ref("HistoryEntry")}})]},
    "StartRequest": {"oneOf": [
        obj({"process": text(pattern=IDENTIFIER_PATTERN, description="Processus qui se démarre pour un établissement."),
             "establishment": text(pattern=UAI_PATTERN, description="UAI de l'établissement.")}, closed=True),
        obj({"process": text(pattern=IDENTIFIER_PATTERN, description="Processus qui se démarre pour une structure."),
             "structure": text(pattern=STRUCTURE_PATTERN, description="Code de la structure.")}, closed=True),
        obj({"process": text(pattern=IDENTIFIER_PATTERN, description="Processus sans établissement ni structure.")},
            closed=True),
    ]},
    "StartableProcess": obj({
        "id": text(description="Identifiant BPMN du processus, à donner à POST /api/v1/instances."),
        "label": text(), "start_label": text(),
        "subject": text(enum=["establishment", "structure", "none"],
                        description="Ce pour quoi il se démarre : un établissement, une structure, ou rien."),
        "campaign": {"type": "boolean", "description": "Un seul dossier par établissement (ou structure) et campagne."},
        "startable_by": {"type": "array", "items": text()},
        "establishments": {"type": "array", "items": obj({"uai": text(), "name": text()})},
        "any_establishment": {"type": "boolean",
                              "description": "Vrai : tout établissement du périmètre de l'appelant, par son UAI."},
        "structures": {"type": "array", "items": obj({"code": text(), "name": text()})},
    }),
    "StartableProcessList": obj({"items": {"type": "array", "items": ref("StartableProcess")}}),
    "Document": obj({
        "id": ID, "kind": text(), "title": text(), "filename": text(), "content_type": text(),
        "size": {"type": "integer", "minimum": 0}, "sha256": text(), "created_at": MOMENT, "url": text(),
    }),
    "DocumentList": obj({"items": {"type": "array", "items": ref("Document")}}),
    "MissingItem": obj({"field": text(), "label": text(), "fix": text()}),
    "PersonCard": obj({"name": text(), "role": text(), "role_label": text(),
                           "email": text(nullable=True), "phone": text(nullable=True)}),
    "EstablishmentSummary": obj({
        "id": ID, "uai": text(), "name": text(), "city": text(nullable=True), "department": text(),
        "network": text(description="Réseau : SGEC ou CNEAP."),
        "pupil_count": {"type": ["integer", "null"], "description": "Dernier effectif d'élèves connu."},
        "pupil_count_year": text(nullable=True, description="Année scolaire de cet effectif (2026-2027)."),
        "complete": {"type": "boolean", "description": "Dossier complet pour la campagne ouverte, où démarrent les "
                                                       "nouveaux projets d'accueil ; sinon GET `url` dit ce qui "
                                                       "manque et qui le corrige."},
        "url": text(description="Le dossier de l'établissement dans l'API."),
    }),
    "EstablishmentPage": obj({
        "items": {"type": "array", "items": ref("EstablishmentSummary")},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100},
        "next_cursor": text(nullable=True, description="Curseur opaque de la page suivante (paramètre « cursor »), "
                                                       "null après la dernière page."),
        "next": text(nullable=True, description="Adresse de la page suivante, avec les mêmes filtres ; null après "
                                                "la dernière page."),
        "total": {"type": "integer", "minimum": 0, "deprecated": True},
        "page": {**ID, "deprecated": True}, "per_page": {**ID, "deprecated": True},
    }, required=["items"]),
    "EstablishmentFile": obj({
        "id": ID, "uai": text(), "name": text(), "ogec_name": text(nullable=True),
        "address": text(nullable=True), "postal_code": text(nullable=True), "city": text(nullable=True),
        "department": text(), "siret": text(nullable=True), "phone": text(nullable=True), "network": text(),
        "pupil_count": {"type": ["integer", "null"]}, "pupil_count_year": text(nullable=True),
        "complete": {"type": "boolean"},
        "missing": {"type": "array", "items": ref("MissingItem")},
        "people": {"type": "array", "items": ref("PersonCard")},
    }),
    "ReasonRequest": obj({"reason": text(minLength=1, maxLength=500, description="Motif, gardé dans "
                                              "l'historique du dossier.")}, closed=True),
    "MigrationRequest": obj({"version": {**ID, "description": "Version (déploiement) plus récente."}},
                                closed=True),
    "ReassignRequest": obj({"person_id": {"type": ["integer", "null"], "minimum": 1, "maximum": 2**31 - 1,
                                              "description": "Personne habilitée ; null : toutes."}}, closed=True),
    "Candidate": obj({"person_id": ID, "name": text(), "role": text(), "structure": text(nullable=True)}),
    "CandidateList": obj({"assignee": {"type": ["integer", "null"]},
                              "items": {"type": "array", "items": ref("Candidate")}}),
    "WaitingEvent": obj({
        "id": text(format="uuid", description="Identifiant de l'échéance, à donner à …/timers/{timer_id}/fire ou "
                                               "…/reschedule ; une échéance périodique le garde d'une occurrence "
                                               "à la suivante."),
        "kind": text(enum=["cycle", "date", "duration"],
                      description="cycle : périodique (chaque mois) ; date : à une date ; duration : après un délai."),
        "element": text(description="Identifiant de l'événement minuterie dans le BPMN (monthly_follow_up…)."),
        "label": text(description="Ce qui est attendu, en français (propriété waitingLabel du BPMN, sinon le nom "
                                   "de l'événement) : « Prochain suivi mensuel »."),
        "text": text(description="La phrase des pages : « Prochain suivi mensuel : le 1er novembre 2027 »."),
        "due_at": MOMENT,
    }),
    "FireTimerRequest": obj({"reason": text(minLength=1, maxLength=500, description="Motif, gardé dans "
                                                 "l'historique du dossier.")}, closed=True),
    "RescheduleTimerRequest": obj({
        "due_at": text(description="Nouvelle échéance, à venir : date et heure ISO 8601 (2027-11-03T09:00), heure "
                                    "locale du serveur sans décalage indiqué."),
        "reason": text(minLength=1, maxLength=500, description="Motif, gardé dans l'historique du dossier."),
    }, closed=True),
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

TASK_ID = {"name": "task_id", "in": "path", "required": True, "schema": text(format="uuid")}
INSTANCE_ID = {"name": "instance_id", "in": "path", "required": True, "schema": ID}
DOCUMENT_ID = {"name": "document_id", "in": "path", "required": True, "schema": ID}


def query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def page_parameters(items: str, default: int, maximum: int) -> list[dict]:
    """The `limit` and `cursor` parameters of a list read by keyset (`items`: what a page holds, in French)."""
    return [
        query("limit", {"type": "integer", "minimum": 1, "maximum": maximum}, f"{items} par page ({default})."),
        query("cursor", text(maxLength=200), "Curseur opaque de la page voulue, tel que « next_cursor » l'a donné ; "
                                             "absent pour la première page."),
    ]


def numbered_page_parameters(answered: str) -> list[dict]:
    """The deprecated `page` and `per_page` of a list now read by keyset (`answered`: what the answer then gives)."""
    return [
        query("page", {"type": "integer", "minimum": 1, "maximum": 100000},
              f"Obsolète (retiré à la prochaine version) : page par numéro, à partir de 1 ; la réponse donne alors "
              f"{answered} au lieu des curseurs. Préférez « cursor »."),
        query("per_page", {"type": "integer", "minimum": 1, "maximum": 100},
              "Obsolète (retiré à la prochaine version) : ancien nom de « limit »."),
    ]


def request_body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}
TIMER_ID = {"name": "timer_id", "in": "path", "required": True, "schema": text(format="uuid"),
            "description": "`id` d'un élément de `waiting`."}
