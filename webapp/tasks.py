"""Task pages: the form of a ready task, validated on the server and completed."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine import forms
from engine.campaign.gdpr import record_access
from engine.documents import list_documents
from engine.runtime.runtime import Conflict, FormInvalid, ProcessRuntime
from engine.views.task_view import build_task_view
from webapp.auth import principal
from webapp.confirmation import confirmation_page, confirmed, revising
from webapp.database import db_session

bp = Blueprint("tasks", __name__, url_prefix="/taches")


def runtime() -> ProcessRuntime:
    """The process runtime bound to this request's session."""
    return ProcessRuntime(db_session(), current_app.config["STORAGE_DIR"], settings=current_app.config)


@bp.route("/<task_id>", methods=("GET", "POST"))
@login_required
def task(task_id: str):
    """Show a task's form; on submission validate it and complete the task."""
    engine = runtime()
    try:
        loaded = engine.ready_task(task_id, principal(), for_change=request.method == "POST")
    except Conflict as error:
        flash(str(error), "warning")
        return redirect(url_for("inbox.home"))
    row, _workflow, spiff_task, bundle = loaded
    if request.method == "GET":
        record_access(db_session(), principal(), row.instance, "tâche", "web", datetime.now())
    view = build_task_view(row, spiff_task, bundle, form=engine.task_form(row, spiff_task, bundle))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = forms.data_from_web_form(view.form, request.form, request.files)
        asked = None if revising() or confirmed() else view.form.confirmation_for(data)
        if revising():
            view.values = data
        elif asked is not None:
            # An irreversible choice is confirmed on a page of its own, once the input is valid.
            errors = engine.validate(row, spiff_task, bundle, data)
            if not errors:
                return confirmation_page(asked, view.form.summary(data), busy_label=view.form.busy_label,
                                         back_link={"url": url_for("tasks.task", task_id=row.id), "label": row.title})
            view.values = data
        else:
            try:
                instance = engine.complete(task_id, principal(), data, loaded)
            except FormInvalid as invalid:
                db_session().rollback()
                # Files already received come back as stored documents, so that they need not be sent again.
                errors, view.values = invalid.errors, invalid.data if invalid.data is not None else data
            except Conflict as error:
                flash(str(error), "warning")
                return redirect(url_for("inbox.home"))
            else:
                flash(f"« {row.title} » est enregistré.", "success")
                if instance.incident:
                    flash("Le dossier a rencontré un incident après votre saisie ; elle est conservée et les "
                          "gestionnaires du processus sont prévenus.", "warning")
                return redirect(url_for("inbox.home"))
    status = 422 if errors else 200
    return render_template("tasks/task.html", view=view, errors=errors, form_errors=errors.get(forms.FORM_LEVEL, []),
                           documents=list_documents(db_session(), row.instance_id, row.place)), status
