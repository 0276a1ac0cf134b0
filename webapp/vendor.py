"""The bpmn-js viewer, served from `node_modules/` (installed from the npm registry, never committed)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

from webapp.config import settings_of

bp = Blueprint("vendor", __name__)

VIEWER_SCRIPT = "bpmn-navigated-viewer.production.min.js"
VIEWER_STYLES = ("assets/diagram-js.css", "assets/bpmn-js.css")


def bpmn_js_dir() -> Path:
    """Where the built bpmn-js files are."""
    return Path(settings_of().node_modules_dir) / "bpmn-js" / "dist"


def viewer_available() -> bool:
    """Whether the viewer is installed; without it the diagram pages show a plain list."""
    return (bpmn_js_dir() / VIEWER_SCRIPT).is_file()


@bp.route("/static/vendor/bpmn-js/<path:filename>")
def bpmn_js(filename: str):
    """A file of the bpmn-js distribution (script, style sheets, fonts)."""
    if not viewer_available():
        abort(404)
    return send_from_directory(bpmn_js_dir(), filename, max_age=86400)
