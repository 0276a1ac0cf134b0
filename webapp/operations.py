"""Operations on an instance from its page: suspend, resume, terminate, reassign a task, rejoin ended paths (audited)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import login_required

from engine.access import require_operate
from engine.errors import Conflict
from engine.forms import Confirmation
from engine.models import TaskRow
from engine.models.runtime import INSTANCE_STATUSES
from engine.ops.operations import InstanceOperations, OperationRefused, checked_reason
from engine.runtime.runtime import paths_rejoined
from webapp.auth import principal
from webapp.config import runtime_settings_of
from webapp.confirmation import confirmation_page, confirmed
from webapp.database import db_session
from webapp.refusals import redirect_refusals

bp = Blueprint("operations", __name__)


def operations_runtime() -> InstanceOperations:
    """The runtime with the steering operations, bound to this request's session."""
    return InstanceOperations(db_session(), runtime_settings_of(current_app))


def _back(instance_id: int):
    return redirect(url_for("instances.show", instance_id=instance_id))


def _refusals_back_to(instance_id: int) -> None:
    # A refused input keeps nothing half-done: the message says what to change, the page is shown again.
    redirect_refusals(url_for("instances.show", instance_id=instance_id), OperationRefused, Conflict)


@bp.route("/dossiers/<int:instance_id>/parcours-termines", methods=("POST",))
@login_required
def rejoin(instance_id: int):
    """Merge the ended volunteer paths a dossier waits on for nothing, and run it on (process owners)."""
    runtime = operations_runtime()
    instance = runtime.instance(instance_id)
    _refusals_back_to(instance_id)
    merged = runtime.repair_ended_paths(instance, principal())
    flash(f"{paths_rejoined(merged)} : le dossier est {INSTANCE_STATUSES[instance.status].lower()}.", "success")
    return _back(instance_id)


@bp.route("/dossiers/<int:instance_id>/suspension", methods=("POST",))
@login_required
def suspend(instance_id: int):
    """Suspend an instance, with a reason."""
    runtime = operations_runtime()
    instance = runtime.instance(instance_id)
    _refusals_back_to(instance_id)
    runtime.suspend(instance, principal(), request.form.get("reason"))
    flash("Le dossier est suspendu : ses tâches sont retirées des boîtes de réception.", "success")
    return _back(instance_id)


@bp.route("/dossiers/<int:instance_id>/reprise", methods=("POST",))
@login_required
def resume(instance_id: int):
    """Resume a suspended instance."""
    runtime = operations_runtime()
    instance = runtime.instance(instance_id)
    _refusals_back_to(instance_id)
    runtime.resume(instance, principal())
    flash("Le dossier a repris : ses tâches sont de nouveau dans les boîtes de réception.", "success")
    return _back(instance_id)


@bp.route("/dossiers/<int:instance_id>/interruption", methods=("POST",))
@login_required
def terminate(instance_id: int):
    """Terminate an instance for good, with a reason."""
    runtime = operations_runtime()
    instance = runtime.instance(instance_id)
    _refusals_back_to(instance_id)
    if not confirmed():
        require_operate(principal(), instance, "terminate")
        reason = checked_reason(request.form.get("reason"), "l'interruption")
        return confirmation_page(
            Confirmation(title="Interrompre définitivement ce dossier ?",
                         message="Toutes ses tâches en cours sont annulées et il ne pourra pas reprendre ; "
                                 "l'interruption et son motif sont inscrits dans l'historique.",
                         button="Confirmer l'interruption"),
            [("Dossier", instance.title), ("Motif de l'interruption", reason)],
            back_link={"url": url_for("instances.show", instance_id=instance_id), "label": instance.title},
            cancel_url=url_for("instances.show", instance_id=instance_id))
    runtime.terminate(instance, principal(), request.form.get("reason"))
    flash("Le dossier est interrompu.", "success")
    return _back(instance_id)


@bp.route("/taches/<task_id>/reaffectation", methods=("POST",))
@login_required
def reassign(task_id: str):
    """Give a ready task to another eligible person (or back to everyone of its role)."""
    row = db_session().get(TaskRow, task_id[:36])
    if row is None:
        abort(404)
    choice = request.form.get("person_id", "")
    _refusals_back_to(row.instance_id)
    if choice == "tous":
        person_id = None
    elif choice.isascii() and choice.isdigit() and len(choice) < 10:
        person_id = int(choice)
    else:
        raise OperationRefused("Choisissez une personne dans la liste.", "person_id")
    operations_runtime().reassign(row.id, principal(), person_id)
    flash("La tâche a été réaffectée.", "success")
    return _back(row.instance_id)
