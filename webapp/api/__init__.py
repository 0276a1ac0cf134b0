"""JSON API v1 under /api/v1: bearer tokens, tasks, instances, documents and school files.

Every route but the OpenAPI document and the token endpoints requires a
bearer token; role and scope are checked by `engine.access` as for pages.
The API carries no cookie session, so CSRF protection does not apply to it.
"""
from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from webapp.api import (  # noqa: F401 - registers the routes
    establishments,
    instances,
    openapi,
    operations,
    tasks,
    timers,
    tokens,
)
from webapp.api.common import bp, public


def init_app(app: Flask, csrf: CSRFProtect) -> None:
    """Register the API blueprints, exempt from CSRF; `webapp.errors` answers their refusals in JSON."""
    for blueprint in (public, bp):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
