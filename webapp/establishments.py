"""School files: what the platform knows of an establishment, what is missing, its people and their roles."""
from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required

from engine.access import UNSEEN_ESTABLISHMENT, require_view_establishment
from engine.campaign.campaigns import CampaignRefused, current_campaign, reopen_submission
from engine.campaign.school_files import NamingRefused, establishment_page, name_referent
from engine.directory.lookups import TUTOR_CHOICE_RULE
from engine.directory.sync import next_run_phrase
from engine.errors import NotFound
from engine.models import Establishment
from handlers.formats import date_fr
from handlers.school_file import FIELD_LABELS
from webapp.auth import principal
from webapp.config import settings_of
from webapp.database import db_session
from webapp.refusals import redirect_refusals

bp = Blueprint("establishments", __name__, url_prefix="/etablissements")


@bp.app_context_processor
def _tutor_choice_rule() -> dict:
    # Every page where tuteurs are chosen or listed says why a newly named person is not offered yet.
    return {"tutor_choice_rule": f"{TUTOR_CHOICE_RULE} {next_synchronisation()}"}


def next_synchronisation() -> str:
    """When the directory is next read, as the pages say it: the nightly synchronisation, or a manual import."""
    settings = settings_of()
    if not settings.directory_sync_source:
        return ("L'annuaire est mis à jour quand un responsable de processus importe l'export d'Isidoor "
                "(Administration › Annuaire).")
    return f"Prochaine synchronisation de l'annuaire : {next_run_phrase(settings.clock(), settings.directory_sync_hour)}."


def _establishment(establishment_id: int) -> Establishment:
    establishment = db_session().get(Establishment, establishment_id)
    if establishment is None:
        raise NotFound(UNSEEN_ESTABLISHMENT)
    require_view_establishment(db_session(), principal(), establishment)
    return establishment


@bp.route("/<int:establishment_id>")
@login_required
def show(establishment_id: int):
    """Show a school file with its completeness, its people and whether they can be chosen as tuteur."""
    establishment = _establishment(establishment_id)
    campaign = current_campaign(db_session())
    page = establishment_page(db_session(), principal(), establishment, campaign, date.today())
    return render_template("establishments/show.html", establishment=establishment, campaign=campaign,
                           labels=FIELD_LABELS, today=date.today(), **page)


@bp.route("/<int:establishment_id>/referents", methods=("POST",))
@login_required
def add_referent(establishment_id: int):
    """A référent names another person of the school référent."""
    establishment = _establishment(establishment_id)
    back = url_for("establishments.show", establishment_id=establishment.id)
    redirect_refusals(back, NamingRefused)
    person = name_referent(db_session(), principal(), establishment,
                           request.form.get("person_id", type=int) or 0, datetime.now())
    flash(f"{person.full_name} a désormais le rôle de référent de l'établissement.", "success")
    return redirect(back)


@bp.route("/<int:establishment_id>/reouverture", methods=("POST",))
@login_required
def reopen(establishment_id: int):
    """A gestionnaire lets the school submit its project after the deadline."""
    establishment = _establishment(establishment_id)
    campaign = current_campaign(db_session())
    if campaign is None:
        flash("Aucune campagne n'est ouverte.", "error")
        return redirect(url_for("establishments.show", establishment_id=establishment.id))
    back = url_for("establishments.show", establishment_id=establishment.id)
    redirect_refusals(back, CampaignRefused)
    reopening = reopen_submission(db_session(), principal(), campaign, establishment,
                                  request.form.get("until", ""), request.form.get("reason", ""), datetime.now())
    flash(f"Le dépôt du projet d'accueil est rouvert pour {establishment.name} jusqu'au "
          f"{date_fr(reopening.until)}.", "success")
    return redirect(back)
