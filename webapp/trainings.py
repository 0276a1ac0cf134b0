"""Trainings (step 8): sessions, registrations within capacity, attendance, and who misses which training."""
from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from engine.access import UNSEEN_TRAINING
from engine.campaign.campaigns import campaigns_in_view
from engine.campaign.starts import start_choices
from engine.campaign.training_tracking import training_tracking
from engine.campaign.trainings import (
    RegistrationRefused,
    may_register_self,
    record_attendance,
    register,
    registerable_missions,
    registerable_tutors,
    require_see,
    territory_of,
    unregister,
    visible_registrations,
    visible_sessions,
)
from engine.errors import NotFound
from engine.models import Person, Structure, TaskRow, TrainingRegistration, TrainingSession, VolunteerMission
from engine.training_access import can_manage_training
from engine.views.queries import campaigns_of
from handlers.formats import plural
from handlers.rules import CIVIC_TRAINING, TRAININGS
from handlers.training import days_fr
from webapp.auth import principal
from webapp.database import db_session
from webapp.refusals import redirect_refusals

bp = Blueprint("trainings", __name__, url_prefix="/formations")
AUDIENCES = {"volunteers": "Volontaires", "tutors": "Tuteurs et cotuteurs"}


@bp.app_context_processor
def training_labels() -> dict:
    """Labels of training kinds and audiences, for every template."""
    return {"training_kinds": {kind: rule["label"] for kind, rule in TRAININGS.items()}, "audiences": AUDIENCES,
            "days_fr": days_fr}


def _session_or_404(session_id: int) -> TrainingSession:
    training = db_session().get(TrainingSession, session_id)
    if training is None:
        raise NotFound(UNSEEN_TRAINING)
    require_see(db_session(), principal(), training)
    return training


@bp.route("/")
@login_required
def index():
    """Sessions the user may see, upcoming first, and the structures whose sessions they organise."""
    session = db_session()
    trainings = visible_sessions(session, principal())
    today = date.today()
    upcoming = sorted((t for t in trainings if t.session_date >= today), key=lambda t: t.session_date)
    past = [t for t in trainings if t.session_date < today]
    structures = list(session.scalars(select(Structure).where(Structure.code.in_(principal().structures))))
    # Each session belongs to the campaign it was planned in.
    phases = {view.school_year: view.phase_label for view in campaigns_in_view(session, today)}
    # Sessions are planned by the processes a gestionnaire starts for their structure (engine.campaign.starts).
    starts = [choice for choice in start_choices(session, principal()) if choice.entry.subject == "structure"]
    return render_template("trainings/index.html", upcoming=upcoming, past=past, structures=structures, starts=starts,
                           campaign_of=campaigns_of(session, [t.instance_id for t in trainings]), phases=phases)


@bp.route("/<int:session_id>")
@login_required
def show(session_id: int):
    """A session: its registrations (all of them for its organisers, the user's own for others)."""
    session = db_session()
    training = _session_or_404(session_id)
    me = principal()
    manager = can_manage_training(me, training.structure_code)
    closing = session.scalar(select(TaskRow).where(TaskRow.instance_id == training.instance_id,
                                                   TaskRow.state == "ready", TaskRow.spec_id == "record_attendance"))
    territory = territory_of(session, training.structure_code, training.department)
    return render_template(
        "trainings/show.html", training=training, manager=manager,
        registrations=visible_registrations(session, me, training),
        missions=registerable_missions(session, me, training), tutors=registerable_tutors(session, me, training),
        may_register_self=may_register_self(session, me, training), closing=closing,
        territory=sorted(territory) if territory is not None else None, today=date.today(),
    )


@bp.route("/<int:session_id>/inscriptions", methods=("POST",))
@login_required
def register_someone(session_id: int):
    """Register the user (a tuteur), a tuteur (by the organiser) or a volunteer to a session."""
    session = db_session()
    training = _session_or_404(session_id)
    person = mission = None
    if request.form.get("mission_id"):
        mission = session.get(VolunteerMission, request.form.get("mission_id", type=int) or 0)
        if mission is None:
            abort(404)
    else:
        person = session.get(Person, request.form.get("person_id", type=int) or principal().person_id)
        if person is None:
            abort(404)
    redirect_refusals(url_for("trainings.show", session_id=session_id), RegistrationRefused)
    registration = register(session, principal(), training, datetime.now(), person=person, mission=mission)
    flash(f"Inscription de {registration.name} à la session « {training.title} » enregistrée.", "success")
    return redirect(url_for("trainings.show", session_id=session_id))


@bp.route("/<int:session_id>/inscriptions/<int:registration_id>/annulation", methods=("POST",))
@login_required
def cancel_registration(session_id: int, registration_id: int):
    """Cancel a registration, freeing its place."""
    session = db_session()
    training = _session_or_404(session_id)
    registration = session.get(TrainingRegistration, registration_id)
    if registration is None or registration.session_id != training.id:
        abort(404)
    name = registration.name
    redirect_refusals(url_for("trainings.show", session_id=session_id), RegistrationRefused)
    unregister(session, principal(), training, registration)
    flash(f"L'inscription de {name} est annulée.", "success")
    return redirect(url_for("trainings.show", session_id=session_id))


@bp.route("/<int:session_id>/presences", methods=("POST",))
@login_required
def attendance(session_id: int):
    """Record who attended the session (its organisers)."""
    training = _session_or_404(session_id)
    presence = {}
    for registration in training.registrations:
        answer = request.form.get(f"presence-{registration.id}")
        if answer in ("present", "absent"):
            presence[registration.id] = answer == "present"
    redirect_refusals(url_for("trainings.show", session_id=session_id), RegistrationRefused)
    recorded = record_attendance(db_session(), principal(), training, presence, datetime.now())
    missing = len(training.registrations) - sum(r.attended is not None for r in training.registrations)
    flash(f"Présences enregistrées ({recorded})." + (f" Il reste {plural(missing, 'inscrit')} sans réponse."
                                                      if missing else " Vous pouvez clore la session."), "success")
    return redirect(url_for("trainings.show", session_id=session_id))


@bp.route("/suivi")
@login_required
def tracking():
    """Who, among the volunteers under follow-up and the tuteurs of the territory, misses which training."""
    only_missing = request.args.get("manquantes") == "1"
    tracked = training_tracking(db_session(), principal())
    if only_missing:
        tracked["volunteers"] = [r for r in tracked["volunteers"] if r.lacking]
        tracked["tutors"] = [r for r in tracked["tutors"] if r.missing]
    return render_template("trainings/tracking.html", tracked=tracked, only_missing=only_missing,
                           civic_days=CIVIC_TRAINING["min_days"], civic_months=CIVIC_TRAINING["early_months"])
