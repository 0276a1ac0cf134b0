"""Task pages: the form of a ready task, validated on the server and completed."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine import forms
from engine.campaign.gdpr import record_access
from engine.documents import list_documents
from engine.errors import Conflict, FormInvalid
from engine.models import TaskRow
from engine.runtime.runtime import ProcessRuntime
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


def runtime() -> ProcessRuntime:
    """The process runtime bound to this request's session."""
    return ProcessRuntime(db_session(), runtime_settings_of(current_app))


@bp.route("/<task_id>", methods=("GET", "POST"))
@login_required
def task(task_id: str):
    """Show a task's form; on submission validate it and complete the task."""
    engine = runtime()
    # A task done or changed meanwhile is no mistake of this person's: the inbox shows what is left to do.
    redirect_refusals(url_for("inbox.home"), Conflict, category="warning")
    ready = engine.ready_task(task_id, principal(), for_change=request.method == "POST")
    row = ready.row
    if request.method == "GET":
        record_access(db_session(), principal(), row.instance, "tâche", "web", datetime.now())
    view = build_task_view(row, ready.task, ready.bundle, form=engine.task_form(ready))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = forms.data_from_web_form(view.form, request.form, request.files)
        asked = None if revising() or confirmed() else view.form.confirmation_for(data)
        if revising():
            view.values = data
        elif asked is not None:
            # An irreversible choice is confirmed on a page of its own, once the input is valid.
            errors = engine.validate(ready, data)
            if not errors:
                return confirmation_page(asked, view.form.summary(data), busy_label=view.form.busy_label,
                                         back_link={"url": url_for("tasks.task", task_id=row.id), "label": row.title})
            view.values = data
        else:
            def shown_again(invalid: FormInvalid):
                # Files already received come back as stored documents, so that they need not be sent again.
                view.values = invalid.data if invalid.data is not None else data
                return _task_page(row, view, invalid.errors)

            answer_refusals(shown_again, FormInvalid)
            instance = engine.complete(task_id, principal(), data, ready)
            flash(f"« {row.title} » est enregistré.", "success")
            if instance.incident:
                flash("Le dossier a rencontré un incident après votre saisie ; elle est conservée et les "
                      "gestionnaires du processus sont prévenus.", "warning")
            return redirect(url_for("inbox.home"))
    return _task_page(row, view, errors)


def _task_page(row: TaskRow, view: TaskView, errors: dict[str, list[str]]):
    page = render_template("tasks/task.html", view=view, errors=errors, form_errors=errors.get(forms.FORM_LEVEL, []),
                           documents=list_documents(db_session(), row.instance_id, row.place),
                           panel=panel_template(row.spec_id))
    return page, 422 if errors else 200


def panel_template(task_id: str) -> str | None:
    """The template of the panel of task `task_id`, or None when the task has none."""
    path = task_panel(PANELS_DIR, task_id)
    return f"tasks/panels/{path.name}" if path is not None else None
