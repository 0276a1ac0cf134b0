"""GET /health: what a load balancer or a monitor asks of each web node, without logging in."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from engine.ops.health import health_report
from webapp.config import settings_of

bp = Blueprint("health", __name__)


@bp.get("/health")
def show():
    """Report the database, the migrations and the workers' heartbeats: 200 when all pass, 503 otherwise.

    Public on purpose (monitors carry no account); it tells nothing about people or instances.
    """
    report = health_report(current_app.extensions["db_engine"], settings_of().health_workers,
                           settings_of().health_worker_max_age)
    response = jsonify({"status": "ok" if report["ok"] else "error", **report})
    response.status_code = 200 if report["ok"] else 503
    response.headers["Cache-Control"] = "no-store"
    return response
