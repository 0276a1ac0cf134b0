"""Tasks through the API: the caller's actionable tasks, one task's form, completing it."""
from __future__ import annotations

from datetime import datetime

from flask import jsonify

from engine import forms
from engine.gdpr import record_access
from engine.models import Establishment, ProcessInstance, TaskRow
from engine.queries import actionable_tasks
from engine.runtime import FormInvalid
from engine.task_view import build_task_view
from webapp.api.common import bp, checked_uuid, iso, json_body, principal, runtime
from webapp.api.errors import ApiError
from webapp.api.instances import instance_state
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
    """List the tasks the caller may complete now, oldest first."""
    rows = actionable_tasks(db_session(), principal())
    return jsonify({"items": [task_summary(*row) for row in rows]})


@bp.get("/tasks/<task_id>")
def show_task(task_id: str):
    """Show a ready task with its form (JSON Schema, UI hints) and the values already given."""
    row, _workflow, spiff_task, bundle = runtime().ready_task(checked_uuid(task_id), principal())
    record_access(db_session(), principal(), row.instance, "tâche", "api", datetime.now())
    view = build_task_view(row, spiff_task, bundle)
    establishment = db_session().get(Establishment, row.establishment_id) if row.establishment_id else None
    return jsonify({
        **task_summary(row, row.instance, establishment),
        "instructions": view.instructions,
        "schema": view.form.schema,
        "ui_schema": view.form.ui,
        "data": view.values,
    })


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str):
    """Validate the submitted form data and complete the task; answer the instance's new state."""
    engine = runtime()
    loaded = engine.ready_task(checked_uuid(task_id), principal())
    data = json_body()
    try:
        instance = engine.complete(task_id, principal(), data, loaded)
    except FormInvalid as invalid:
        db_session().rollback()
        errors = [{"field": None if name == forms.FORM_LEVEL else name, "message": message}
                  for name, messages in invalid.errors.items() for message in messages]
        raise ApiError(422, "Le formulaire contient des erreurs.", errors) from None
    return jsonify({"instance": instance_state(instance)})
