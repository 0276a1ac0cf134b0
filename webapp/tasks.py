"""Task pages: the form of a ready task with what is needed to decide, its draft, and its completion."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine import forms
from engine.campaign.gdpr import record_access
from engine.documents import list_documents
from engine.errors import Conflict, FormInvalid
from engine.runtime.runtime import ProcessRuntime, ReadyTask
from engine.runtime.tasks import has_form
from engine.validation.conventions import task_panel
from engine.views.task_view import TaskView, build_task_view
from webapp.auth import principal
from webapp.config import runtime_settings_of
from webapp.confirmation import confirmation_page, confirmed, revising
from webapp.database import db_session
from webapp.refusals import answer_refusals, redirect_refusals

bp = Blueprint("tasks", __name__, url_prefix="/taches")
# One panel at most per user task, `<task id>.html`, shown above its form; `processes validate` reports a panel
# named after no user task, which would otherwise never show.
PANELS_DIR = Path(__file__).parent / "templates" / "tasks" / "panels"
# The buttons that keep what was typed without sending it: « Enregistrer le brouillon », « Revenir plus tard ».
SAVE_DRAFT, LEAVE_FOR_LATER = "brouillon", "plus-tard"


def runtime() -> ProcessRuntime:
    """The process runtime bound to this request's session."""
    return ProcessRuntime(db_session(), runtime_settings_of(current_app))


@bp.route("/<task_id>", methods=("GET", "POST"))
@login_required
def task(task_id: str):
    """Show a task's form with its context and the person's draft; keep a draft, or validate and complete."""
    engine = runtime()
    # A task done or changed meanwhile is no mistake of this person's: the inbox shows what is left to do.
    redirect_refusals(url_for("inbox.home"), Conflict, category="warning")
    ready = engine.ready_task(task_id, principal(), for_change=request.method == "POST")
    row = ready.row
    if request.method == "GET":
        record_access(db_session(), principal(), row.instance, "tâche", "web", datetime.now())
        return _task_page(_view(engine, ready, engine.task_form(ready)), {}, manual=not has_form(ready.task.task_spec))
    form = engine.task_form(ready)
    data = forms.data_from_web_form(form, request.form, request.files)

    def shown_with(values: dict, errors: dict[str, list[str]]):
        # Built only when the form is shown again: a completion that goes through needs no context nor instructions.
        view = _view(engine, ready, form, with_draft=False)
        view.values = values
        return _task_page(view, errors)

    action = request.form.get("action")
    if action in (SAVE_DRAFT, LEAVE_FOR_LATER):
        return _keep_draft(engine, ready, form, data, leaving=action == LEAVE_FOR_LATER)
    asked = None if revising() or confirmed() else form.confirmation_for(data)
    if revising():
        return shown_with(data, {})
    if asked is not None:
        # An irreversible choice is confirmed on a page of its own, once the input is valid.
        errors = engine.validate(ready, data)
        if not errors:
            return confirmation_page(asked, form.summary(data), busy_label=form.busy_label,
                                     back_link={"url": url_for("tasks.task", task_id=row.id), "label": row.title})
        engine.save_draft(ready, principal(), data)
        return shown_with(data, errors)

    def shown_again(invalid: FormInvalid):
        # The engine kept the input as a draft; files already received come back as stored documents.
        return shown_with(invalid.data if invalid.data is not None else data, invalid.errors)

    answer_refusals(shown_again, FormInvalid)
    instance = engine.complete(task_id, principal(), data, ready)
    flash(f"« {row.title} » est enregistré.", "success")
    if instance.incident:
        flash("Le dossier a rencontré un incident après votre saisie ; elle est conservée et les "
              "gestionnaires du processus sont prévenus.", "warning")
    return redirect(url_for("inbox.home"))


def _view(engine: ProcessRuntime, ready: ReadyTask, form: forms.Form, with_draft: bool = True) -> TaskView:
    draft = engine.draft(ready, principal()) if with_draft else None
    return build_task_view(db_session(), ready.row, ready.task, ready.bundle, form=form, draft=draft,
                           budget=engine.settings.script_budget)


def _keep_draft(engine: ProcessRuntime, ready: ReadyTask, form: forms.Form, data: dict, leaving: bool):
    _draft, refused_files = engine.save_draft(ready, principal(), data)
    for name, messages in refused_files.items():
        title = form.properties.get(name, {}).get("title", name)
        flash(f"Le fichier du champ « {title} » n'est pas gardé dans le brouillon : {' '.join(messages)}", "warning")
    if leaving:
        flash(f"Votre saisie de « {ready.row.title} » est gardée en brouillon : vous la retrouverez en rouvrant "
              "la tâche.", "success")
        return redirect(url_for("inbox.home"))
    flash("Brouillon enregistré.", "success")
    return redirect(url_for("tasks.task", task_id=ready.row.id))


def _task_page(view: TaskView, errors: dict[str, list[str]], manual: bool = False):
    # A manual task has no form: its page offers a « C'est fait » button instead.
    row = view.row
    page = render_template("tasks/task.html", view=view, errors=errors, form_errors=errors.get(forms.FORM_LEVEL, []),
                           documents=list_documents(db_session(), row.instance_id, row.place),
                           panel=panel_template(row.spec_id), today=date.today(), manual=manual)
    return page, 422 if errors else 200


def panel_template(task_id: str) -> str | None:
    """The template of the panel of task `task_id`, or None when the task has none."""
    path = task_panel(PANELS_DIR, task_id)
    return f"tasks/panels/{path.name}" if path is not None else None
