"""Deploying process versions from the browser (process owners): upload, review, confirm."""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from engine.access import require_process_owner
from engine.models import Deployment, Person, StagedDeployment
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
from engine.scenarios import ScenarioCoverage, find_scenarios, run_scenarios
from engine.scenarios.coverage import coverage_views
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
    """Play the scenarios on the deployed version (or an upload: `?envoi=<id>`) and show what they never reach."""
    require_process_owner(principal())
    session = db_session()
    staged_id = request.args.get("envoi", type=int)
    staged = session.get(StagedDeployment, staged_id) if staged_id is not None else None
    if staged_id is not None and staged is None:
        abort(404)
    deployment = current_deployment(session)
    files = candidate_files(session, staged) if staged is not None else dict(deployment.files if deployment else {})
    scenarios = find_scenarios([], settings_of().processes_dir / "scenarios")
    # An upload with errors cannot be deployed, even on a throwaway copy.
    playable = bool(files) and (staged is None or staged.status != "invalid")
    chosen = request.form.get("scenario", "")
    paths = [path for path in scenarios if not chosen or path.name == chosen]
    outcomes = report = None
    views: list = []
    if request.method == "POST" and playable and paths:
        recorder = ScenarioCoverage(files)
        with _without_scenario_logs():
            outcomes = run_scenarios(paths, files, coverage=recorder)
        report = recorder.report()
        views = coverage_views(report, files)
    return render_template("process_admin/coverage.html", deployment=deployment, staged=staged, playable=playable,
                           scenarios=scenarios, chosen=chosen, unknown=not paths, outcomes=outcomes, report=report,
                           views=views, viewer=viewer_available()), (422 if not paths else 200)


class _OtherThreads(logging.Filter):
    """Lets through the records of every thread but the one that created it."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether the record comes from another thread."""
        return record.thread != self.thread


@contextmanager
def _without_scenario_logs() -> Iterator[None]:
    """Keep the throwaway platform's migrations and task completions out of the log: with this request's id and
    user, they would read as changes of real dossiers. Other requests' lines go on being written."""
    muted, handlers = _OtherThreads(), list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(muted)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(muted)


def _process_names(deployment: Deployment | None) -> list[tuple[str, str]]:
    if deployment is None:
        return []
    bundle = bundle_for(deployment)
    return [(process_id, bundle.process_name(process_id)) for process_id in deployment.process_ids]
