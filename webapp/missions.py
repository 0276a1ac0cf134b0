"""Volunteers' missions on an instance's page, and ending a mission early ("Mettre fin à la mission")."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine import forms
from engine.access import Forbidden, can_end_mission, visible_instance
from engine.campaign.missions import find_mission, mandatory_status, missions_of
from engine.campaign.termination import end_mission, termination_errors, termination_form
from engine.errors import Conflict, FormInvalid, NotFound
from engine.forms import Confirmation
from engine.runtime.runtime import ProcessRuntime
from webapp.auth import principal
from webapp.config import runtime_settings_of
from webapp.confirmation import confirmation_page, confirmed, revising
from webapp.database import db_session
from webapp.refusals import answer_refusals, redirect_refusals

bp = Blueprint("missions", __name__, url_prefix="/dossiers")


@bp.app_template_global()
def mission_panel(instance_id: int) -> list[dict]:
    """The missions of an instance with their mandatory trainings and whether the user may end them."""
    session = db_session()
    return [{"mission": mission, "trainings": mandatory_status(session, mission),
             "may_end": mission.status == "in_progress" and can_end_mission(principal(), mission)}
            for mission in missions_of(session, instance_id)]


@bp.route("/<int:instance_id>/places/<int:place>/fin", methods=("GET", "POST"))
@login_required
def end(instance_id: int, place: int):
    """The early-termination form of a mission; on submission, end the mission."""
    session = db_session()
    instance = visible_instance(session, principal(), instance_id)
    mission = find_mission(session, instance_id, place)
    if mission is None:
        raise NotFound("Cette mission n'existe pas.")
    if not can_end_mission(principal(), mission):
        raise Forbidden("Seuls le référent de l'établissement et le gestionnaire du contrat peuvent mettre fin "
                        "à cette mission.")
    if mission.status != "in_progress":
        flash(f"La mission de {mission.volunteer_name} n'est plus en cours.", "info")
        return redirect(url_for("instances.show", instance_id=instance_id))
    form = termination_form(instance)
    errors: dict[str, list[str]] = {}
    values: dict = {}

    def page(errors: dict[str, list[str]]):
        return render_template("missions/end.html", instance=instance, mission=mission, form=form, values=values,
                               errors=errors, form_errors=errors.get(forms.FORM_LEVEL, [])), 422 if errors else 200

    if request.method == "POST":
        values = forms.data_from_web_form(form, request.form)
        if not revising() and not confirmed():
            errors = termination_errors(instance, mission, values)
            if not errors:
                return confirmation_page(
                    Confirmation(title=f"Mettre fin à la mission de {mission.volunteer_name} ?",
                                 message="Les suivis mensuels en attente et les échéances à venir sont annulés, le "
                                         "gestionnaire du contrat est prévenu par courriel, et la mission ne pourra "
                                         "pas reprendre.",
                                 button="Confirmer la fin de la mission"),
                    form.summary(values), back_link={"url": url_for("instances.show", instance_id=instance_id),
                                                     "label": instance.title})
        elif confirmed():
            runtime = ProcessRuntime(session, runtime_settings_of(current_app))
            redirect_refusals(url_for("instances.show", instance_id=instance_id), Conflict, category="warning")
            answer_refusals(lambda invalid: page(invalid.errors), FormInvalid)
            end_mission(runtime, mission, principal(), values)
            flash(f"La mission de {mission.volunteer_name} a pris fin ; les suivis en attente sont annulés et le "
                  "gestionnaire est prévenu.", "success")
            return redirect(url_for("instances.show", instance_id=instance_id))
    return page(errors)
