"""The Flask web app: inboxes, task forms, instances and school files, in French."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Flask, current_app, send_from_directory
from flask_wtf.csrf import CSRFProtect

from webapp import (
    admin,
    api,
    auth,
    cli,
    database,
    documents,
    errors,
    establishments,
    health,
    helpdesk,
    inbox,
    instances,
    logging_setup,
    missions,
    monitoring,
    notifications,
    operations,
    process_admin,
    process_editor,
    security,
    sign_on,
    sign_on_discrepancies,
    tasks,
    trainings,
    vendor,
)
from webapp.config import RUNTIME_SETTINGS, SETTINGS, Settings, runtime_settings, settings_from_environment
from webapp.formatting import register_filters

csrf = CSRFProtect()


def favicon():
    """The icon browsers ask for at /favicon.ico whatever the page says (pages link the SVG one)."""
    return send_from_directory(current_app.static_folder or "static", "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600)


def favicon_uri(app: Flask) -> str:
    """The SVG icon as a data URI, so that pages carry it instead of asking for it each time.

    Quotes and « # » are escaped: the URI sits in a quoted attribute, and « # » would start a fragment.
    """
    svg = (Path(app.static_folder or "static") / "favicon.svg").read_text(encoding="utf-8")
    return "data:image/svg+xml," + quote(" ".join(line.strip() for line in svg.splitlines()), safe=" =:/,.-'")


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the app; `test_config` overrides settings by name, and sets Flask's own keys."""
    app = Flask(__name__, instance_relative_config=True)
    settings = settings_from_environment(Path(app.instance_path), test_config)
    app.extensions[SETTINGS] = settings
    app.config.from_mapping(settings.flask_config())
    # Beyond the settings, tests set Flask's own keys (TESTING, WTF_CSRF_ENABLED…).
    app.config.from_mapping({name: value for name, value in (test_config or {}).items()
                             if name not in Settings.names()})
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.extensions[RUNTIME_SETTINGS] = runtime_settings(settings)
    logging_setup.init_app(app)
    database.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    auth.init_app(app)
    register_filters(app)
    errors.init_app(app)
    cli.init_app(app)
    for module in (auth, inbox, tasks, instances, documents, establishments, admin, helpdesk, health,
                   sign_on, sign_on_discrepancies):
        app.register_blueprint(module.bp)
    for module in (monitoring, operations, vendor):
        app.register_blueprint(module.bp)
    for module in (notifications, trainings, missions):
        app.register_blueprint(module.bp)
    app.register_blueprint(process_admin.bp)
    app.register_blueprint(process_editor.bp)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.jinja_env.globals["FAVICON_URI"] = favicon_uri(app)
    api.init_app(app, csrf)
    return app
