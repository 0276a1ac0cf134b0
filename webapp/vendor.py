"""bpmn-js and dmn-js, served from `node_modules/` (installed from the npm registry, never committed).

bpmn-js draws the diagrams of the monitoring pages (NavigatedViewer) and edits them in the browser (Modeler);
dmn-js edits the decision tables. Both are pinned in package.json and package-lock.json.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

from webapp.config import settings_of

bp = Blueprint("vendor", __name__)

VIEWER_SCRIPT = "bpmn-navigated-viewer.production.min.js"
VIEWER_STYLES = ("assets/diagram-js.css", "assets/bpmn-js.css")
MODELER_SCRIPT = "bpmn-modeler.production.min.js"
MODELER_STYLES = (*VIEWER_STYLES, "assets/bpmn-font/css/bpmn.css")
DMN_MODELER_SCRIPT = "dmn-modeler.production.min.js"
DMN_STYLES = ("assets/diagram-js.css", "assets/dmn-js-shared.css", "assets/dmn-js-drd.css",
              "assets/dmn-js-decision-table.css", "assets/dmn-js-decision-table-controls.css",
              "assets/dmn-js-literal-expression.css", "assets/dmn-font/css/dmn.css")


def bpmn_js_dir() -> Path:
    """Where the built bpmn-js files are."""
    return Path(settings_of().node_modules_dir) / "bpmn-js" / "dist"


def dmn_js_dir() -> Path:
    """Where the built dmn-js files are."""
    return Path(settings_of().node_modules_dir) / "dmn-js" / "dist"


def viewer_available() -> bool:
    """Whether the viewer is installed; without it the diagram pages show a plain list."""
    return (bpmn_js_dir() / VIEWER_SCRIPT).is_file()


def modeler_available() -> bool:
    """Whether the BPMN modeler is installed; without it the editor says how to install it."""
    return (bpmn_js_dir() / MODELER_SCRIPT).is_file()


def dmn_modeler_available() -> bool:
    """Whether the DMN modeler is installed; without it the editor says how to install it."""
    return (dmn_js_dir() / DMN_MODELER_SCRIPT).is_file()


@bp.route("/static/vendor/bpmn-js/<path:filename>")
def bpmn_js(filename: str):
    """A file of the bpmn-js distribution (script, style sheets, fonts)."""
    if not viewer_available():
        abort(404)
    return send_from_directory(bpmn_js_dir(), filename, max_age=86400)


@bp.route("/static/vendor/dmn-js/<path:filename>")
def dmn_js(filename: str):
    """A file of the dmn-js distribution (script, style sheets, fonts)."""
    if not dmn_modeler_available():
        abort(404)
    return send_from_directory(dmn_js_dir(), filename, max_age=86400)
