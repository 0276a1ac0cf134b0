"""A dossier's timers through the API: fire one now, or move its due time, with a reason.

Process owners, and gestionnaires within their territory, as on the dossier's page. The timer is named by the
`id` of an item of the instance's `waiting` list. Role and scope come first (403), then the body (422), then the
instance's state and the timer (409: finished, suspended, or no longer waiting).
"""
from __future__ import annotations

from flask import current_app, jsonify

from engine.access import require_operate, visible_instance
from engine.models import ProcessInstance
from engine.ops.timer_control import OPERATION, TimerControl
from webapp.api.common import UUID, bp, json_body, principal, refuse_unknown_fields
from webapp.api.errors import ApiError
from webapp.api.instances import instance_state
from webapp.config import runtime_settings_of
from webapp.database import db_session


def _control() -> TimerControl:
    return TimerControl(db_session(), runtime_settings_of(current_app))


def _instance(instance_id: int, timer_id: str) -> ProcessInstance:
    instance = visible_instance(db_session(), principal(), instance_id)
    require_operate(principal(), instance, OPERATION)
    if not UUID.match(timer_id):
        raise ApiError(404, "Cette échéance n'existe pas.")
    return instance


def _text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(422, None, [{"field": name, "message": "Un texte est attendu."}])
    return value


@bp.post("/instances/<int:instance_id>/timers/<timer_id>/fire")
def fire_timer(instance_id: int, timer_id: str):
    """Fire a waiting timer now, with a reason: the instance goes on as if its date had come."""
    instance = _instance(instance_id, timer_id)
    body = json_body()
    refuse_unknown_fields(body, ("reason",))
    _control().fire_now(instance, timer_id, principal(), _text(body, "reason"))
    return jsonify({"instance": instance_state(instance)})


@bp.post("/instances/<int:instance_id>/timers/<timer_id>/reschedule")
def reschedule_timer(instance_id: int, timer_id: str):
    """Move a waiting timer's due time (`due_at`, ISO 8601), with a reason."""
    instance = _instance(instance_id, timer_id)
    body = json_body()
    refuse_unknown_fields(body, ("due_at", "reason"))
    _control().reschedule(instance, timer_id, principal(), _text(body, "due_at"), _text(body, "reason"))
    return jsonify({"instance": instance_state(instance)})
