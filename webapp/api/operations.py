"""Steering instances through the API: retry, rejoin ended paths, suspend, resume, terminate, migrate, reassign a task.

Role and scope come first (403), then the body (422), then the instance's state (409), as on the pages.
"""
from __future__ import annotations

from flask import current_app, jsonify

from engine.access import require_operate, visible_instance
from engine.models import Deployment, ProcessInstance, TaskRow
from engine.ops.operations import InstanceOperations, eligible_people
from webapp.api.common import bp, checked_uuid, json_body, principal, refuse_unknown_fields
from webapp.api.errors import ApiError
from webapp.api.instances import instance_state
from webapp.config import runtime_settings_of
from webapp.database import db_session


def _operations() -> InstanceOperations:
    return InstanceOperations(db_session(), runtime_settings_of(current_app))


def _instance(instance_id: int, operation: str) -> ProcessInstance:
    instance = visible_instance(db_session(), principal(), instance_id)
    require_operate(principal(), instance, operation)
    return instance


def _reason(body: dict) -> str | None:
    refuse_unknown_fields(body, ("reason",))
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ApiError(422, None, [{"field": "reason", "message": "Le motif doit être un texte."}])
    return reason


@bp.post("/instances/<int:instance_id>/retry")
def retry_instance(instance_id: int):
    """Run again the failed step of an instance in incident (process owners)."""
    instance = _instance(instance_id, "retry")
    _operations().retry_incident(instance, principal())
    return jsonify({"instance": instance_state(instance)})


@bp.post("/instances/<int:instance_id>/rejoin")
def rejoin_instance(instance_id: int):
    """Merge the ended volunteer paths an instance waits on for nothing, and run it on (process owners)."""
    instance = _instance(instance_id, "retry")
    _operations().repair_ended_paths(instance, principal())
    return jsonify({"instance": instance_state(instance)})


@bp.post("/instances/<int:instance_id>/suspend")
def suspend_instance(instance_id: int):
    """Suspend an instance, with a reason: its tasks leave the inboxes, its timers wait."""
    instance = _instance(instance_id, "suspend")
    reason = _reason(json_body())
    _operations().suspend(instance, principal(), reason)
    return jsonify({"instance": instance_state(instance)})


@bp.post("/instances/<int:instance_id>/resume")
def resume_instance(instance_id: int):
    """Resume a suspended instance."""
    instance = _instance(instance_id, "resume")
    _operations().resume(instance, principal())
    return jsonify({"instance": instance_state(instance)})


@bp.post("/instances/<int:instance_id>/terminate")
def terminate_instance(instance_id: int):
    """Terminate an instance for good, with a reason."""
    instance = _instance(instance_id, "terminate")
    reason = _reason(json_body())
    _operations().terminate(instance, principal(), reason)
    return jsonify({"instance": instance_state(instance)})


@bp.post("/instances/<int:instance_id>/migrate")
def migrate_instance(instance_id: int):
    """Move an instance to a newer version; 409 with every reason when it cannot move."""
    instance = _instance(instance_id, "migrate")
    body = json_body()
    refuse_unknown_fields(body, ("version",))
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 0 < version < 2**31:
        raise ApiError(422, None, [{"field": "version", "message": "Numéro de version attendu (entier positif)."}])
    target = db_session().get(Deployment, version)
    if target is None:
        raise ApiError(422, None, [{"field": "version", "message": f"La version {version} n'existe pas."}])
    outcome = _operations().migrate(instance, principal(), target)
    if not outcome.migrated:
        raise ApiError(409, "Ce dossier ne peut pas passer à cette version.",
                       [{"field": None, "message": reason} for reason in outcome.reasons])
    return jsonify({"instance": instance_state(instance)})


def _task(task_id: str) -> TaskRow:
    row = db_session().get(TaskRow, checked_uuid(task_id))
    if row is None:
        raise ApiError(404, "Cette tâche n'existe pas.")
    require_operate(principal(), row.instance, "reassign")
    return row


@bp.get("/tasks/<task_id>/candidates")
def task_candidates(task_id: str):
    """The people a task may be given to (process owners, gestionnaires of the instance's territory)."""
    row = _task(task_id)
    return jsonify({"assignee": row.assignee_id, "items": [
        {"person_id": c.person.id, "name": c.person.full_name, "role": c.role, "structure": c.structure_code}
        for c in eligible_people(db_session(), row)]})


@bp.post("/tasks/<task_id>/reassign")
def reassign_task(task_id: str):
    """Give a ready task to one eligible person (`person_id`), or back to everyone of its role (null)."""
    row = _task(task_id)
    body = json_body()
    refuse_unknown_fields(body, ("person_id",))
    if "person_id" not in body:
        raise ApiError(422, None, [{"field": "person_id", "message": "Ce champ est obligatoire (null pour rendre "
                                                                     "la tâche à toutes les personnes habilitées)."}])
    person_id = body["person_id"]
    if person_id is not None and (not isinstance(person_id, int) or isinstance(person_id, bool)
                                  or not 0 < person_id < 2**31):
        raise ApiError(422, None, [{"field": "person_id", "message": "Identifiant de personne attendu."}])
    _operations().reassign(row.id, principal(), person_id)
    return jsonify({"instance": instance_state(row.instance)})
