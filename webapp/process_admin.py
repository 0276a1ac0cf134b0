"""Deploying process versions from the browser (process owners): upload, review, confirm."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from engine.access import require_process_owner
from engine.models import Deployment, Person, ScenarioRun, StagedDeployment
from engine.models.staging import STAGED_STATUSES
from engine.runtime.deployment import bundle_for, current_deployment
from engine.runtime.staging import (
    MAX_FILE_BYTES,
    StagingRefused,
    candidate_files,
    confirm_staged,
    discard_staged,
    problems_of,
    stage_files,
)
from engine.scenarios import find_scenarios
from engine.scenarios.coverage import coverage_views
from engine.scenarios.runs import coverage_of, play_in_background, run_files, start_run, view_of
from webapp.auth import principal
from webapp.config import settings_of
from webapp.database import db_session
from webapp.refusals import redirect_refusals
from webapp.vendor import viewer_available

bp = Blueprint("process_admin", __name__, url_prefix="/administration/processus")


@bp.route("/", methods=("GET", "POST"))
@login_required
def index():
    """The deployed version, the form to upload changed files, and the latest uploads."""
    require_process_owner(principal())
    session = db_session()
    if request.method == "POST":
        uploads = [(upload.filename, upload.read()) for upload in request.files.getlist("files") if upload.filename]
        redirect_refusals(url_for("process_admin.index"), StagingRefused)
        staged = stage_files(session, principal(), uploads, datetime.now())
        return redirect(url_for("process_admin.review", staged_id=staged.id))
    deployment = current_deployment(session)
    recent = session.execute(select(StagedDeployment, Person).outerjoin(Person, Person.id == StagedDeployment.created_by_id)
                             .order_by(StagedDeployment.id.desc()).limit(10)).all()
    versions = session.scalars(select(Deployment).order_by(Deployment.id.desc()).limit(5)).all()
    return render_template("process_admin/index.html", deployment=deployment, versions=versions, recent=recent,
                           processes=_process_names(deployment), statuses=STAGED_STATUSES,
                           max_mb=MAX_FILE_BYTES // (1024 * 1024))


@bp.route("/envois/<int:staged_id>")
@login_required
def review(staged_id: int):
    """The validation of an upload: its errors, or what it changes and the button to deploy it."""
    require_process_owner(principal())
    session = db_session()
    staged = session.get(StagedDeployment, staged_id)
    if staged is None:
        abort(404)
    problems = problems_of(staged)
    by_file: dict[str, list] = {}
    for problem in problems:
        by_file.setdefault(problem.file, []).append(problem)
    base = session.get(Deployment, staged.base_deployment_id) if staged.base_deployment_id else None
    current = current_deployment(session)
    return render_template("process_admin/review.html", staged=staged, problems=problems, by_file=by_file,
                           errors=[p for p in problems if p.is_error], changes=staged.report["changes"], base=base,
                           stale=current is not None and (base is None or current.id != base.id),
                           author=session.get(Person, staged.created_by_id) if staged.created_by_id else None,
                           statuses=STAGED_STATUSES), (422 if staged.status == "invalid" else 200)


@bp.route("/envois/<int:staged_id>/deploiement", methods=("POST",))
@login_required
def deploy(staged_id: int):
    """Deploy the files of an upload as a new version (the confirmation step)."""
    require_process_owner(principal())
    redirect_refusals(url_for("process_admin.review", staged_id=staged_id), StagingRefused)
    deployment = confirm_staged(db_session(), principal(), staged_id, datetime.now())
    flash(f"Version n° {deployment.id} déployée : les nouveaux dossiers démarrent sur elle ; les dossiers en cours "
          "restent sur la version avec laquelle ils ont démarré.", "success")
    return redirect(url_for("process_admin.index"))


@bp.route("/envois/<int:staged_id>/abandon", methods=("POST",))
@login_required
def discard(staged_id: int):
    """Drop an upload without deploying it."""
    require_process_owner(principal())
    redirect_refusals(url_for("process_admin.index"), StagingRefused)
    discard_staged(db_session(), principal(), staged_id, datetime.now())
    flash("Envoi abandonné : rien n'a été déployé.", "success")
    return redirect(url_for("process_admin.index"))


@bp.route("/couverture", methods=("GET", "POST"))
@login_required
def coverage():
    """Play the scenarios on the deployed version (or an upload: `?envoi=<id>`) and show what they never reach.

    The POST records a run played in the background and leads to its page (`?execution=<id>`), which shows
    its progress until it ends, then the outcomes and the coverage."""
    require_process_owner(principal())
    session = db_session()
    # A POST starts a new run, whatever page it was sent from.
    run = _run_asked(session) if request.method == "GET" else None
    staged_id = run.staged_deployment_id if run is not None else request.args.get("envoi", type=int)
    staged = session.get(StagedDeployment, staged_id) if staged_id is not None else None
    if staged_id is not None and staged is None:
        abort(404)
    deployment = current_deployment(session)
    files = candidate_files(session, staged) if staged is not None else dict(deployment.files if deployment else {})
    scenarios = find_scenarios([], settings_of().processes_dir / "scenarios")
    # An upload with errors cannot be deployed, even on a throwaway copy.
    playable = bool(files) and (staged is None or staged.status != "invalid")
    chosen = request.form.get("scenario", "") if run is None else run.scenario
    paths = [path for path in scenarios if not chosen or path.name == chosen]
    if request.method == "POST" and playable and paths:
        run = start_run(session, deployment=deployment, staged=staged, scenario=chosen, coverage=True,
                        actor_id=principal().person_id, now=datetime.now())
        play_in_background(current_app.extensions["db_sessions"], run.id, paths)
        return redirect(url_for("process_admin.coverage", execution=run.id), 303)
    shown = view_of(run, datetime.now()) if run is not None else None
    played = run_files(session, run) if run is not None else {}
    report = coverage_of(run, played) if run is not None else None
    views = coverage_views(report, played) if report is not None else []
    return render_template("process_admin/coverage.html", deployment=deployment, staged=staged, playable=playable,
                           scenarios=scenarios, chosen=chosen, unknown=not paths, run=shown, report=report,
                           views=views, viewer=viewer_available()), (422 if not paths else 200)


@bp.route("/executions/<int:run_id>")
@login_required
def run_status(run_id: int):
    """Where a scenario run stands, in JSON, for the pages that poll it (coverage page, editor)."""
    require_process_owner(principal())
    run = db_session().get(ScenarioRun, run_id)
    if run is None:
        abort(404)
    return jsonify(view_of(run, datetime.now()).as_json())


def _run_asked(session) -> ScenarioRun | None:
    """The scenario run a coverage page shows (`?execution=<id>`), None without one; 404 for an unknown one."""
    run_id = request.args.get("execution", type=int)
    if run_id is None:
        return None
    run = session.get(ScenarioRun, run_id)
    if run is None:
        abort(404)
    return run


def _process_names(deployment: Deployment | None) -> list[tuple[str, str]]:
    if deployment is None:
        return []
    bundle = bundle_for(deployment)
    return [(process_id, bundle.process_name(process_id)) for process_id in deployment.process_ids]
