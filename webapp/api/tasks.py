"""Tasks through the API: the caller's actionable tasks, one task's form and context, its draft, completing it."""
from __future__ import annotations

import json
import math
from datetime import datetime

from flask import jsonify, request, url_for

from engine.campaign.gdpr import record_access
from engine.documents import list_documents
from engine.models import Establishment, ProcessInstance, TaskRow
from engine.uploads import Upload
from engine.views.inbox import DEFAULT_LIMIT, MAX_LIMIT, InboxFilter, inbox_page
from engine.views.task_view import build_task_view
from webapp.api.common import bp, checked_uuid, iso, json_body, principal, query_int, query_text, runtime
from webapp.api.errors import ApiError
from webapp.api.instances import IDENTIFIER, SCHOOL_YEAR, instance_state
from webapp.database import db_session


def establishment_ref(establishment: Establishment | None) -> dict | None:
    """An establishment as lists show it: id, UAI and name."""
    if establishment is None:
        return None
    return {"id": establishment.id, "uai": establishment.uai, "name": establishment.name}


def task_summary(row: TaskRow, instance: ProcessInstance, establishment: Establishment | None) -> dict:
    """A ready task as the task list shows it."""
    return {
        "id": row.id,
        "name": row.spec_id,
        "title": row.title,
        "process": row.process_id,
        "instance_id": instance.id,
        "instance_title": instance.title,
        "role": row.lane,
        "establishment": establishment_ref(establishment),
        "place": row.place,
        "created_at": iso(row.created_at),
        "due_at": iso(row.due_at),
    }


@bp.get("/tasks")
def list_tasks():
    """List one page of the tasks the caller may complete now, the nearest due date first (tasks without one
    last), then the oldest; `next` is the address of the following page, None after the last."""
    limit = query_int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    only = InboxFilter(step=query_text("step", IDENTIFIER), campaign=query_text("campaign", SCHOOL_YEAR))
    page = inbox_page(db_session(), principal(), limit, query_text("cursor"), only)
    following = None if page.next_cursor is None else url_for(
        "api.list_tasks", limit=limit, step=only.step, campaign=only.campaign, cursor=page.next_cursor)
    return jsonify({"items": [task_summary(*row) for row in page.rows], "limit": limit,
                    "next_cursor": page.next_cursor, "next": following})


@bp.get("/tasks/<task_id>")
def show_task(task_id: str):
    """Show a ready task with its form (JSON Schema, UI hints), its context and the values to start from.

    The values are the caller's draft when they kept one (`draft` says when), else what the form opens with.
    """
    engine = runtime()
    ready = engine.ready_task(checked_uuid(task_id), principal(), for_change=False)
    row = ready.row
    record_access(db_session(), principal(), row.instance, "tâche", "api", datetime.now())
    draft = engine.draft(ready, principal())
    view = build_task_view(db_session(), row, ready.task, ready.bundle, form=engine.task_form(ready), draft=draft,
                           budget=engine.settings.script_budget)
    establishment = db_session().get(Establishment, row.establishment_id) if row.establishment_id else None
    return jsonify({
        **task_summary(row, row.instance, establishment),
        "instructions": view.instructions,
        "context": [section.as_data() for section in view.context],
        "schema": view.form.schema,
        "ui_schema": view.form.ui,
        "data": view.values,
        "draft": draft_state(draft),
        "documents": [task_document(item) for item in list_documents(db_session(), row.instance_id, row.place)],
    })


def draft_state(draft) -> dict | None:
    """When the caller's draft was saved, or None."""
    return {"saved_at": iso(draft.saved_at)} if draft is not None else None


@bp.get("/tasks/<task_id>/draft")
def show_draft(task_id: str):
    """The caller's draft of a ready task: what they typed and did not send (404 when they kept none)."""
    engine = runtime()
    ready = engine.ready_task(checked_uuid(task_id), principal(), for_change=False)
    draft = engine.draft(ready, principal())
    if draft is None:
        raise ApiError(404, "Vous n'avez pas de brouillon pour cette tâche.")
    return jsonify({"data": draft.data, "saved_at": iso(draft.saved_at)})


@bp.put("/tasks/<task_id>/draft")
def save_draft(task_id: str):
    """Keep the caller's draft of a ready task, unchecked; files are stored and attached as for a submission."""
    engine = runtime()
    ready = engine.ready_task(checked_uuid(task_id), principal(), for_change=False)
    data = multipart_body() if request.mimetype == "multipart/form-data" else json_body()
    draft, refused_files = engine.save_draft(ready, principal(), data)
    return jsonify({"data": draft.data, "saved_at": iso(draft.saved_at),
                    "refused_files": [{"field": name, "message": " ".join(messages)}
                                      for name, messages in refused_files.items()]})


def task_document(item) -> dict:
    """A document of the task's instance (and place) as the task detail lists it."""
    document = item.document
    return {"id": document.id, "kind": document.kind, "title": document.title, "filename": document.filename,
            "content_type": document.content_type, "version": document.version, "current": item.current,
            "url": url_for("api.download_document", instance_id=document.instance_id, document_id=document.id)}


def _refuse_constant(name: str):
    raise ValueError(f"valeur non autorisée : {name}")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("nombre hors limites")
    return number


def multipart_body() -> dict:
    """Form data sent as multipart/form-data: the JSON of the fields in `data`, and one part per file field."""
    try:
        body = json.loads(request.form.get("data") or "{}", parse_float=_finite, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "La partie « data » n'est pas du JSON valide.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "La partie « data » doit être un objet JSON.")
    for name, file in request.files.items():
        body[name] = Upload(filename=file.filename or name, content=file.read())
    return body


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str):
    """Validate the submitted form data and complete the task; answer the instance's new state."""
    engine = runtime()
    ready = engine.ready_task(checked_uuid(task_id), principal())
    if not request.mimetype and not request.content_length:
        data: dict = {}  # a manual task (« C'est fait ») is completed with no body at all
    else:
        data = multipart_body() if request.mimetype == "multipart/form-data" else json_body()
    # Invalid data is refused with a 422 naming each field at fault (`FormInvalid.details`).
    instance = engine.complete(task_id, principal(), data, ready)
    return jsonify({"instance": instance_state(instance, engine.open_state(instance))})
