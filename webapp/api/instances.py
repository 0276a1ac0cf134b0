"""Instances through the API: search, detail with history, start, documents."""
from __future__ import annotations

import re
from datetime import date, datetime

from flask import jsonify, request, send_file, url_for
from sqlalchemy import select

from engine.access import UNSEEN_DOCUMENT, can_act, visible_instance
from engine.campaign.campaigns import ProjectExists
from engine.campaign.gdpr import record_access
from engine.campaign.starts import start_choices, start_process
from engine.documents import DocumentStore
from engine.errors import NotFound
from engine.models import AuditEvent, Document, Establishment, Person, ProcessInstance, Structure, TaskRow
from engine.models.runtime import INSTANCE_STATUSES
from engine.runtime.catalogue import current_catalogue
from engine.runtime.deployment import bundle_for
from engine.runtime.store import OpenState
from engine.views.history import EVENT_LABELS, instance_documents, open_tasks, open_tasks_of, without_internal
from engine.views.queries import MAX_LIST_LIMIT, ORDERS, InstanceSearch, instance_page, search_instances
from engine.views.waiting import waiting_events, waiting_events_from
from webapp.api.common import (
    UAI,
    bp,
    iso,
    json_body,
    principal,
    query_int,
    query_text,
    refuse_unknown_fields,
    runtime,
)
from webapp.api.errors import ApiError, json_error
from webapp.config import settings_of
from webapp.database import db_session
from webapp.refusals import answer_refusals

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
# Dossiers a page of GET /api/v1/instances gives without `limit`.
API_LIMIT = 20
# Territories are department numbers or structure codes.
CODE = re.compile(r"^[A-Za-z0-9-]{1,40}$")
SCHOOL_YEAR = re.compile(r"^[0-9]{4}-[0-9]{4}$")


def current_step(task: TaskRow) -> dict:
    """A step an instance waits at: a ready user task's BPMN id and French label, its role, place and due date."""
    return {"id": task.spec_id, "label": task.title, "role": task.lane, "place": task.place,
            "due_at": iso(task.due_at)}


def instance_summary(instance: ProcessInstance, establishment: Establishment | None, ready: list[TaskRow]) -> dict:
    """An instance as lists show it, with its establishment (None for trainings) and its `ready` tasks.

    `version` is the process version it runs on (the deployment number the dashboard and /migrate speak of);
    `revision` counts its changes (the optimistic lock)."""
    return {
        "id": instance.id,
        "process": instance.process_id,
        "title": instance.title,
        "status": instance.status,
        "status_label": INSTANCE_STATUSES.get(instance.status, instance.status),
        "outcome": instance.outcome,
        "version": instance.deployment_id,
        "revision": instance.version,
        "campaign": instance.campaign,
        "establishment": ({"id": establishment.id, "uai": establishment.uai, "name": establishment.name}
                          if establishment is not None else None),
        "structure": instance.structure_code,
        "current_step": instance.current_step,
        "current_steps": [current_step(task) for task in ready],
        "incident": instance.incident,
        "created_at": iso(instance.created_at),
        "updated_at": iso(instance.updated_at),
    }


def instance_state(instance: ProcessInstance, known: OpenState | None = None) -> dict:
    """An instance with its active tasks, saying which ones the caller may complete, and the timers it waits on.

    `known` is what the runtime that just saved the instance knows it waits on: then nothing is read again.
    """
    establishment = instance.establishment
    # A suspended instance's tasks wait: nobody may complete them until it resumes.
    live = instance.status != "suspended"
    ready = known.tasks if known is not None else open_tasks(db_session(), instance.id)
    waiting = (waiting_events_from(instance, known.timers) if known is not None
               else waiting_events(db_session(), instance))
    return {
        **instance_summary(instance, establishment, ready),
        "tasks": [
            {"id": task.id, "name": task.spec_id, "title": task.title, "role": task.lane, "place": task.place,
             "actionable": live and can_act(principal(), task), "created_at": iso(task.created_at),
             "due_at": iso(task.due_at)}
            for task in ready
        ],
        # What it waits for when no person has the hand: its timers, the nearest first.
        "waiting": [{"id": event.id, "kind": event.kind, "element": event.element, "label": event.label,
                     "text": event.text, "due_at": iso(event.due_at)}
                    for event in waiting],
    }


def _history(instance: ProcessInstance) -> list[dict]:
    rows = db_session().execute(
        select(AuditEvent, Person).outerjoin(Person, Person.id == AuditEvent.actor_id)
        .where(AuditEvent.instance_id == instance.id).order_by(AuditEvent.at, AuditEvent.id)
    )
    # School staff never read the unions' internal remarks.
    bundle = None if principal().sees_many_instances else bundle_for(instance.deployment)
    return [{"at": iso(event.at), "kind": event.kind, "label": EVENT_LABELS.get(event.kind, event.kind),
             "summary": event.summary, "task": event.spec_id, "actor": person.full_name if person else None,
             "data": event.data if bundle is None else without_internal(bundle, event.spec_id, event.data)}
            for event, person in rows]


def _visible_instance(instance_id: int) -> ProcessInstance:
    return visible_instance(db_session(), principal(), instance_id)


@bp.get("/instances")
def list_instances():
    """Search the instances within the caller's scope, one page at a time: most recently changed (or created, with
    `order=created`) first, each page after `cursor`; `total` and `by_status` count every matching dossier. `page`
    (deprecated, docs/api.md) still gives a page by number."""
    search = InstanceSearch(
        process=query_text("process", IDENTIFIER),
        status=query_text("status", choices=INSTANCE_STATUSES),
        step=query_text("step", IDENTIFIER),
        establishment_uai=query_text("establishment", UAI),
        territory=query_text("territory", CODE),
        campaign=query_text("campaign", SCHOOL_YEAR),
    )
    # `per_page` is the deprecated name of `limit`.
    limit = query_int("limit", query_int("per_page", API_LIMIT, 1, MAX_LIST_LIMIT), 1, MAX_LIST_LIMIT)
    session = db_session()
    if "page" in request.args:
        return _numbered_page(search, query_int("page", 1, 1, 100_000), limit)
    order = query_text("order", choices=ORDERS) or "updated"
    page = instance_page(session, principal(), search, limit, query_text("cursor"), order)
    ready = open_tasks_of(session, [instance.id for instance, _establishment in page.items])
    following = None if page.next_cursor is None else url_for(
        "api.list_instances", limit=limit, cursor=page.next_cursor, order=request.args.get("order"),
        process=search.process, status=search.status,
        step=search.step, establishment=search.establishment_uai, territory=search.territory,
        campaign=search.campaign)
    return jsonify({"items": [instance_summary(instance, establishment, ready[instance.id])
                              for instance, establishment in page.items],
                    "total": page.total, "by_status": page.by_status, "limit": limit,
                    "next_cursor": page.next_cursor, "next": following})


def _numbered_page(search: InstanceSearch, number: int, per_page: int):
    """The deprecated page by number (offset): not clamped, a client walking the pages stops on the first empty
    one, and `page` answers what it asked."""
    found = search_instances(db_session(), principal(), search, number, per_page, clamp=False)
    ready = open_tasks_of(db_session(), [instance.id for instance, _establishment in found.items])
    return jsonify({"items": [instance_summary(instance, establishment, ready[instance.id])
                              for instance, establishment in found.items],
                    "total": found.total, "page": number, "per_page": per_page})


@bp.get("/instances/<int:instance_id>")
def show_instance(instance_id: int):
    """An instance's status, process version, current steps, active tasks and history with the submitted data."""
    instance = _visible_instance(instance_id)
    record_access(db_session(), principal(), instance, "dossier", "api", datetime.now())
    process_name = bundle_for(instance.deployment).process_name(instance.process_id)
    return jsonify({**instance_state(instance), "process_name": process_name, "history": _history(instance)})


SUBJECT_FIELDS = {"establishment": ("establishment", UAI, "un code UAI (7 chiffres et une lettre)"),
                  "structure": ("structure", CODE, "un code de structure")}


@bp.get("/processes")
def list_processes():
    """The processes the caller may start, with the establishments or structures they may start each about."""
    return jsonify({"items": [{
        "id": choice.entry.process_id, "label": choice.entry.label, "start_label": choice.entry.button,
        "subject": choice.entry.subject, "campaign": choice.entry.campaign,
        "startable_by": list(choice.entry.startable_by),
        "establishments": [{"uai": school.uai, "name": school.name} for school in choice.establishments],
        "any_establishment": choice.any_establishment,
        "structures": [{"code": structure.code, "name": structure.name} for structure in choice.structures],
    } for choice in start_choices(db_session(), principal())]})


@bp.post("/instances")
def start_instance():
    """Start a process of the catalogue about an establishment (UAI), a structure (code) or nothing."""
    body = json_body()
    process = body.get("process")
    if not isinstance(process, str) or not IDENTIFIER.match(process):
        raise ApiError(422, None, [{"field": "process", "message": "Ce champ est obligatoire : l'identifiant d'un "
                                    "processus que vous pouvez démarrer (GET /api/v1/processes)."}])
    refuse_unknown_fields(body, ("process", "establishment", "structure"))
    session = db_session()
    entry = current_catalogue(session).entry(process)
    if entry is None:
        raise ApiError(404, f"Le processus « {process} » n'existe pas dans la version déployée.")
    if not entry.startable:
        raise ApiError(422, None, [{"field": "process", "message": f"« {entry.label} » ne se démarre pas à la main : "
                                    "un autre processus le démarre."}])
    expected = SUBJECT_FIELDS.get(entry.subject)
    for other in set(SUBJECT_FIELDS) - {entry.subject}:
        if other in body:
            raise ApiError(422, None, [{"field": other, "message": f"« {entry.label} » ne se démarre pas pour "
                                        f"{'un établissement' if other == 'establishment' else 'une structure'}."}])
    establishment = structure = None
    if expected is not None:
        field, pattern, wanted = expected
        key = body.get(field)
        if not isinstance(key, str) or not pattern.match(key):
            raise ApiError(422, None, [{"field": field, "message": f"Ce champ est obligatoire : {wanted}."}])
        if field == "establishment":
            establishment = session.scalar(select(Establishment).where(Establishment.uai == key.upper()))
            if establishment is None:
                raise ApiError(404, f"Aucun établissement n'a l'UAI « {key[:20]} ».")
        else:
            structure = session.scalar(select(Structure).where(Structure.code == key.upper()))
            if structure is None:
                raise ApiError(404, f"Aucune structure n'a le code « {key[:40]} ».")
    # A client needs the existing dossier's number to go on with it.
    answer_refusals(lambda exists: json_error(409, f"{exists.message.rstrip('.')} (dossier {exists.instance.id})."),
                    ProjectExists)
    instance = start_process(runtime(), principal(), process, establishment=establishment, structure=structure,
                             today=date.today())
    return jsonify({"instance": instance_state(instance)}), 201


def _document(document: Document) -> dict:
    return {"id": document.id, "kind": document.kind, "title": document.title, "filename": document.filename,
            "content_type": document.content_type, "size": document.size, "sha256": document.sha256,
            "created_at": iso(document.created_at),
            "url": url_for("api.download_document", instance_id=document.instance_id, document_id=document.id)}


@bp.get("/instances/<int:instance_id>/documents")
def list_documents(instance_id: int):
    """Documents of an instance, newest first."""
    instance = _visible_instance(instance_id)
    documents = instance_documents(db_session(), instance.id)
    if documents:
        record_access(db_session(), principal(), instance, "documents", "api", datetime.now())
    return jsonify({"items": [_document(document) for document in documents]})


@bp.get("/instances/<int:instance_id>/documents/<int:document_id>")
def download_document(instance_id: int, document_id: int):
    """The file of a document of an instance."""
    instance = _visible_instance(instance_id)
    document = db_session().get(Document, document_id)
    if document is None or document.instance_id != instance.id:
        raise NotFound(UNSEEN_DOCUMENT)
    path = DocumentStore(settings_of().storage_dir).path_of(document)
    if not path.is_file():
        raise NotFound(UNSEEN_DOCUMENT)
    record_access(db_session(), principal(), instance, "document", "api", datetime.now())
    return send_file(path, mimetype=document.content_type, as_attachment=True, download_name=document.filename)
