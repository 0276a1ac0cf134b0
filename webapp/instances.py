"""Instances: the list a gestionnaire or process owner follows, one instance's page, starting one, its timers."""
from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from engine.access import can_act, require_operate, visible_instance
from engine.campaign import campaigns
from engine.campaign.campaigns import CampaignRefused, ProjectExists
from engine.campaign.gdpr import record_access
from engine.campaign.starts import start_process, startable_entry
from engine.documents import list_documents
from engine.errors import Conflict, StartRefused
from engine.forms import Confirmation
from engine.models import Establishment, ProcessInstance, Structure
from engine.models.runtime import INSTANCE_STATUSES
from engine.ops.operations import OperationRefused, checked_reason
from engine.ops.timer_control import TimerControl, TimerGone
from engine.runtime.catalogue import current_catalogue
from engine.runtime.deployment import bundle_for
from engine.runtime.runtime import ProcessRuntime
from engine.views.dossier_status import dossier_statuses
from engine.views.history import instance_history, open_tasks, school_timeline
from engine.views.instance_detail import school_doers
from engine.views.queries import LIST_LIMIT, InstanceSearch, instance_page
from engine.views.waiting import waiting_event
from webapp.auth import principal
from webapp.config import runtime_settings_of
from webapp.confirmation import confirmation_page, confirmed
from webapp.database import db_session
from webapp.instance_steering import steering_context
from webapp.operations import operations_runtime
from webapp.refusals import redirect_refusals

bp = Blueprint("instances", __name__, url_prefix="/dossiers")


def runtime() -> ProcessRuntime:
    """The process runtime bound to this request's session."""
    return ProcessRuntime(db_session(), runtime_settings_of(current_app))


@bp.route("/")
@login_required
def index():
    """List the instances within the user's scope, with filters, one page at a time (`?apres=` is the cursor of
    the page to show)."""
    session = db_session()
    process = request.args.get("processus", "")
    status = request.args.get("statut", "")
    campaign = request.args.get("campagne", "")
    known = campaigns.all_campaigns(session)
    # The processes people start (those others start run within them), labelled as the analysts named them.
    labels = {entry.process_id: entry.label for entry in current_catalogue(session).startable()}
    search = InstanceSearch(process=process if process in labels else None,
                            status=status if status in INSTANCE_STATUSES else None,
                            campaign=campaign if any(c.school_year == campaign for c in known) else None)
    page = instance_page(session, principal(), search, LIST_LIMIT, request.args.get("apres") or None)
    return render_template("instances/index.html", page=page, process=process, status=status,
                           dossier_status=dossier_statuses(session, [item[0] for item in page.items], datetime.now()),
                           campaign=search.campaign or "", campaigns=known,
                           phases=campaigns.phase_labels(known, date.today()),
                           processes=labels, statuses=INSTANCE_STATUSES)


@bp.route("/<int:instance_id>")
@login_required
def show(instance_id: int):
    """Show an instance: where it stands, what comes next, its documents and history; diagrams, people and
    operations for those who steer it (gestionnaires, process owners)."""
    session = db_session()
    me = principal()
    instance = visible_instance(session, me, instance_id)
    record_access(session, me, instance, "dossier", "web", datetime.now())
    documents = list_documents(session, instance.id)
    status = dossier_statuses(session, [instance], datetime.now())[instance.id]
    tasks = [task.row for task in status.tasks]
    common = {"instance": instance, "establishment": instance.establishment, "status": status,
              "documents": documents, "my_tasks": {task.id for task in tasks if can_act(me, task)}}
    if not me.sees_many_instances:
        return render_template("instances/plain.html", **common,
                               timeline=school_timeline(instance_history(session, instance, internal=False)),
                               doers=school_doers(session, tasks))
    return render_template(
        "instances/show.html", **common, process_name=bundle_for(instance.deployment).process_name(instance.process_id),
        history=instance_history(session, instance), tasks=sorted(tasks, key=lambda task: task.created_at),
        statuses=INSTANCE_STATUSES,
        **steering_context(session, me, instance, tasks, [listed.document for listed in documents]),
    )


@bp.route("/demarrer/<process_id>", methods=("POST",))
@login_required
def start(process_id: str):
    """Start a process of the catalogue about the establishment (by number or UAI) or structure of the form."""
    session = db_session()
    redirect_refusals(url_for("inbox.home"), CampaignRefused, StartRefused)
    # The subject's dossier of this campaign is already there: the person is taken to it.
    redirect_refusals(lambda exists: url_for("instances.show", instance_id=exists.instance.id), ProjectExists,
                      category="info")
    entry = startable_entry(current_catalogue(session), process_id[:100])
    establishment = structure = None
    if entry.subject == "establishment":
        uai = request.form.get("uai", "").strip().upper()
        establishment = (session.scalar(select(Establishment).where(Establishment.uai == uai)) if uai
                         else session.get(Establishment, request.form.get("establishment_id", type=int) or 0))
        if establishment is None:
            abort(404)
    elif entry.subject == "structure":
        structure = session.scalar(select(Structure).where(Structure.code == request.form.get("structure", "")))
        if structure is None:
            abort(404)
    instance = start_process(runtime(), principal(), entry.process_id, establishment=establishment,
                             structure=structure, today=date.today())
    return _started(instance)


@bp.route("/<int:instance_id>/relance", methods=("POST",))
@login_required
def retry(instance_id: int):
    """Run again an instance in incident (process owners)."""
    session = db_session()
    instance = visible_instance(session, principal(), instance_id)
    redirect_refusals(url_for("instances.show", instance_id=instance.id), Conflict)
    operations_runtime().retry_incident(instance, principal())
    flash("Le dossier a été relancé." if not instance.incident else "L'incident persiste : " + instance.incident,
          "success" if not instance.incident else "warning")
    return redirect(url_for("instances.show", instance_id=instance.id))


def _started(instance: ProcessInstance):
    flash(f"« {instance.title} » est démarré.", "success")
    tasks = open_tasks(db_session(), instance.id)
    mine = [t for t in tasks if can_act(principal(), t)]
    if mine:
        return redirect(url_for("tasks.task", task_id=mine[0].id))
    return redirect(url_for("instances.show", instance_id=instance.id))



def _timer_control() -> TimerControl:
    return TimerControl(db_session(), runtime_settings_of(current_app))


def _steered(instance_id: int) -> ProcessInstance:
    """The instance of a timer operation; its refusals come back to its page with their message."""
    instance = visible_instance(db_session(), principal(), instance_id)
    redirect_refusals(url_for("instances.show", instance_id=instance_id), OperationRefused, Conflict)
    return instance


def _shown_due_at() -> datetime | None:
    """The due time of the occurrence the page showed, so that one that fired or moved meanwhile is refused."""
    try:
        return datetime.fromisoformat(request.form.get("prevu", ""))
    except ValueError:
        return None


@bp.route("/<int:instance_id>/echeances/<timer_id>/declenchement", methods=("POST",))
@login_required
def fire_timer(instance_id: int, timer_id: str):
    """Fire a waiting timer now, with a reason, once confirmed (process owners, gestionnaires of the territory)."""
    instance = _steered(instance_id)
    if not confirmed():
        require_operate(principal(), instance, "timer")
        reason = checked_reason(request.form.get("reason"), "ce déclenchement")
        event = waiting_event(db_session(), instance, timer_id[:36])
        if event is None or event.due_at != _shown_due_at():
            raise TimerGone()
        return confirmation_page(
            Confirmation(title="Déclencher cette échéance maintenant ?",
                         message="Le dossier avance aussitôt comme si la date était venue : les tâches qui suivent "
                                 "arrivent dans les boîtes de réception. Le déclenchement et son motif sont inscrits "
                                 "dans l'historique.",
                         button="Déclencher maintenant"),
            [("Dossier", instance.title), ("Échéance", event.text), ("Motif", reason)],
            back_link={"url": url_for("instances.show", instance_id=instance_id), "label": instance.title},
            cancel_url=url_for("instances.show", instance_id=instance_id))
    _timer_control().fire_now(instance, timer_id[:36], principal(), request.form.get("reason"), _shown_due_at())
    flash("L'échéance est déclenchée : le dossier a avancé.", "success")
    return redirect(url_for("instances.show", instance_id=instance_id))


@bp.route("/<int:instance_id>/echeances/<timer_id>/deplacement", methods=("POST",))
@login_required
def reschedule_timer(instance_id: int, timer_id: str):
    """Move a waiting timer's due time, with a reason (process owners, gestionnaires of the territory)."""
    instance = _steered(instance_id)
    _timer_control().reschedule(instance, timer_id[:36], principal(), request.form.get("due_at"),
                                request.form.get("reason"), _shown_due_at())
    flash("L'échéance est déplacée.", "success")
    return redirect(url_for("instances.show", instance_id=instance_id))
