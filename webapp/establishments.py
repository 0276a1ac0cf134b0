"""School files: what the platform knows of an establishment, and what is missing."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import login_required
from sqlalchemy import select

from engine.access import Forbidden, viewable_establishments
from engine.directory import SqlDirectory, establishment_file
from engine.models import Establishment
from handlers.school_file import FIELD_LABELS, school_file_problems
from webapp.auth import principal
from webapp.database import db_session

bp = Blueprint("establishments", __name__, url_prefix="/etablissements")


@bp.route("/<int:establishment_id>")
@login_required
def show(establishment_id: int):
    """Show a school file with its completeness and its people."""
    session = db_session()
    establishment = session.get(Establishment, establishment_id)
    if establishment is None:
        abort(404)
    visible = session.scalar(select(Establishment.id).where(Establishment.id == establishment_id,
                                                             viewable_establishments(principal())))
    if visible is None:
        raise Forbidden("Cet établissement ne relève pas de votre périmètre.")
    people = SqlDirectory(session).people(establishment.id, ("referent", "tuteur", "cotuteur"))
    return render_template("establishments/show.html", establishment=establishment,
                           problems=school_file_problems(establishment_file(establishment)),
                           labels=FIELD_LABELS, people=people)
