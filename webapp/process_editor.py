"""Editing processes, decisions and forms in the browser (process owners): open, save as staged, test, deploy.

A file opens from the deployed version, or from a staged deployment not yet deployed (`?envoi=<id>`), in
bpmn-js's Modeler (BPMN), dmn-js (DMN) or the form editor (a JSON Schema and its UI hints). Saving never
touches the running version: the edited files are staged (`engine.runtime.staging.stage_edits`) and the
validator's problems come back as JSON; the scenarios run on the staged files in the background (the page
polls their progress); the existing review page of
`webapp.process_admin` confirms the deployment.
"""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_login import login_required
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from engine.access import LANE_ROLES, require_process_owner
from engine.errors import Refusal
from engine.forms import CONTEXT_KEY, Form
from engine.models import StagedDeployment
from engine.models.staging import STAGED_STATUSES
from engine.runtime.catalogue import BOOLEANS, ROLES, SUBJECTS
from engine.runtime.deployment import current_deployment
from engine.runtime.staging import StagingRefused, candidate_files, edited_content, problems_of, stage_edits
from engine.scenarios import find_scenarios
from engine.scenarios.ordering import changed_first
from engine.scenarios.runs import play_in_background, start_run, view_of
from handlers.catalog import HANDLER_CATALOG
from webapp.auth import principal
from webapp.config import settings_of
from webapp.database import db_session
from webapp.refusals import answer_refusals
from webapp.vendor import dmn_modeler_available, modeler_available

bp = Blueprint("process_editor", __name__, url_prefix="/administration/processus/editeur")

_EDITABLE = re.compile(r"^(processes/[A-Za-z0-9][A-Za-z0-9_.-]*\.(bpmn|dmn)|forms/[A-Za-z0-9][A-Za-z0-9_.-]*\.schema\.json)$")
_DECISION = re.compile(r"<(?:\w+:)?decision\b[^>]*\bid=\"([^\"]+)\"")


class EditorRefused(Refusal):
    """What the editor sent cannot be used (unreadable JSON, a form schema of the wrong shape); said in French."""

    status = 422


@bp.before_request
@login_required
def _owners_only():
    """Every page and call of the editor is for process owners; JSON calls answer refusals in JSON."""
    require_process_owner(principal())
    if request.method == "POST":
        answer_refusals(lambda refusal: (jsonify(message=refusal.message), refusal.status), Refusal)


@bp.route("/<path:name>")
def edit(name: str):
    """The editor of one file: the BPMN modeler, the DMN modeler or the form editor, with its save bar."""
    if _EDITABLE.match(name) is None:
        abort(404)
    session = db_session()
    staged_id = request.args.get("envoi", type=int)
    content, staged = edited_content(session, name, staged_id)
    if content is None and not name.startswith("forms/"):
        abort(404)
    files = candidate_files(session, staged) if staged is not None else dict(_deployed_files())
    filename = name.rsplit("/", 1)[-1]
    data: dict[str, Any] = {"name": filename, "key": name, "content": content or "",
                            "save_url": url_for("process_editor.save"), "staged": _staged_json(staged)}
    if name.endswith(".bpmn"):
        template, available = "process_editor/bpmn.html", modeler_available()
        data.update(_bpmn_context(files))
    elif name.endswith(".dmn"):
        template, available = "process_editor/dmn.html", dmn_modeler_available()
    else:
        template, available = "process_editor/form.html", True
        ui_key = name.replace(".schema.json", ".uischema.json")
        data.update(ui_name=ui_key.rsplit("/", 1)[-1], ui_content=files.get(ui_key, ""),
                    preview_url=url_for("process_editor.preview"))
    return render_template(template, name=filename, data=data, available=available, staged=staged,
                           statuses=STAGED_STATUSES)


@bp.route("/gestionnaires.json")
def handlers():
    """The service-task handler catalogue, for the properties panel: names, summaries, parameters."""
    return jsonify([{"name": description.name, "summary": description.summary, "result": description.result,
                     "parameters": [{"name": p.name, "type": p.type, "description": p.description,
                                     "required": p.required} for p in description.parameters]}
                    for description in sorted(HANDLER_CATALOG.values(), key=lambda d: d.name)])


@bp.route("/enregistrement", methods=("POST",))
def save():
    """Stage the edited files (over the staged deployment they continue) and answer the validator's problems."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("files"), dict) or not body["files"] or not all(
            isinstance(name, str) and isinstance(text, str) for name, text in body["files"].items()):
        raise EditorRefused("Rien à enregistrer : l'éditeur n'a envoyé aucun fichier.")
    continued = body.get("envoi")
    if continued is not None and not isinstance(continued, int):
        raise EditorRefused("L'envoi à poursuivre est mal désigné : rechargez la page.")
    staged = stage_edits(db_session(), principal(), body["files"], datetime.now(), continued)
    return jsonify(_staged_json(staged)), (422 if staged.status == "invalid" else 200)


@bp.route("/apercu", methods=("POST",))
def preview():
    """The form as the task page would show it, from a schema and UI hints being edited (an HTML fragment)."""
    body = request.get_json(silent=True) or {}
    schema = _json_object(body.get("schema"), "Le schéma")
    ui = _json_object(body.get("uischema") or "{}", "Les indications d'affichage (uischema)")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "racine"
        raise EditorRefused(f"Le schéma n'est pas un JSON Schema valide (à l'endroit « {where} »).") from error
    if not isinstance(schema.get("properties", {}), dict):
        raise EditorRefused("Le schéma doit décrire ses champs sous « properties ».")
    try:
        fields = Form(schema, ui).fields(date.today())
    except (AttributeError, TypeError, KeyError, ValueError) as error:
        raise EditorRefused("Le schéma ou ses indications d'affichage n'ont pas la forme attendue : "
                            "vérifiez-les dans le JSON brut.") from error
    return render_template("process_editor/_preview.html", form=Form(schema, ui), fields=fields)


@bp.route("/envois/<int:staged_id>/scenarios", methods=("POST",))
def scenarios(staged_id: int):
    """Start playing every scenario of processes/scenarios on the staged files, in the background, those of the
    processes the upload changed first; answer where to follow the run (`process_admin.run_status`)."""
    session = db_session()
    staged = session.get(StagedDeployment, staged_id)
    if staged is None:
        abort(404)
    if staged.status != "pending":
        raise StagingRefused("Ces fichiers ont des erreurs : corrigez-les avant de lancer les scénarios."
                             if staged.status == "invalid" else "Cet envoi est déjà déployé ou abandonné : "
                             "rouvrez le fichier depuis la page des versions des processus.", status=422)
    # The scenarios of the processes the upload changed play first: their outcomes come in seconds.
    changed = {change["name"] for change in staged.report["changes"]["files"]}
    order = changed_first(find_scenarios([], settings_of().processes_dir / "scenarios"),
                          candidate_files(session, staged), changed)
    run = start_run(session, deployment=None, staged=staged, scenario="", coverage=False,
                    actor_id=principal().person_id, now=datetime.now(), first=order.first,
                    processes=order.processes)
    play_in_background(current_app.extensions["db_sessions"], run.id, order.paths)
    return jsonify({**view_of(run, datetime.now()).as_json(),
                    "status_url": url_for("process_admin.run_status", run_id=run.id)}), 202


def _deployed_files() -> dict[str, str]:
    deployment = current_deployment(db_session())
    return dict(deployment.files) if deployment is not None else {}


def _json_object(text: Any, what: str) -> dict:
    """A JSON object from the editor's text, or a French refusal saying what is wrong and where."""
    if not isinstance(text, str):
        raise EditorRefused(f"{what} est absent.")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise EditorRefused(f"{what} n'est pas du JSON valide (ligne {error.lineno}, colonne {error.colno}).") from error
    if not isinstance(value, dict):
        raise EditorRefused(f"{what} doit être un objet JSON ({{ … }}).")
    return value


def _staged_json(staged: StagedDeployment | None) -> dict | None:
    """What the editor page knows of a staged deployment: state, problems and where to go next."""
    if staged is None:
        return None
    return {"id": staged.id, "status": staged.status, "status_label": STAGED_STATUSES[staged.status],
            "problems": [{"file": p.file.rsplit("/", 1)[-1], "element_id": p.element_id, "message": p.message,
                          "element": p.element, "error": p.is_error} for p in problems_of(staged)],
            "review_url": url_for("process_admin.review", staged_id=staged.id),
            "scenarios_url": url_for("process_editor.scenarios", staged_id=staged.id),
            "files": sorted(key.rsplit("/", 1)[-1] for key in staged.files)}


def _bpmn_context(files: dict[str, str]) -> dict:
    """What the properties panel offers: form files, decisions, handlers, roles, and each form's task context."""
    forms = sorted(key.rsplit("/", 1)[-1] for key in files if key.startswith("forms/"))
    contexts = {}
    for key, text in files.items():
        if key.endswith(".uischema.json"):
            try:
                ui = json.loads(text)
            except json.JSONDecodeError:
                continue
            if isinstance(ui, dict) and CONTEXT_KEY in ui:
                contexts[key.rsplit("/", 1)[-1]] = ui[CONTEXT_KEY]
    return {
        "schemas": [name for name in forms if name.endswith(".schema.json")],
        "uischemas": [name for name in forms if name.endswith(".uischema.json")],
        "contexts": contexts,
        "decisions": sorted({match for key, text in files.items() if key.endswith(".dmn")
                             for match in _DECISION.findall(text)}),
        "handlers_url": url_for("process_editor.handlers"),
        "moddle_url": url_for("static", filename="spiffworkflow-moddle.json"),
        "form_url": url_for("process_editor.edit", name="forms/NAME"),
        "lane_roles": sorted(LANE_ROLES),
        "start_roles": list(ROLES),
        "subjects": list(SUBJECTS),
        "booleans": list(BOOLEANS),
    }
