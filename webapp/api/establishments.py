"""School files through the API: what the platform knows of an establishment, and what is missing."""
from __future__ import annotations

from flask import jsonify
from sqlalchemy import select

from engine.access import require_view_establishment
from engine.campaign.campaigns import current_campaign
from engine.directory.lookups import SqlDirectory, establishment_file, school_file
from engine.models import Establishment
from handlers.school_file import school_file_problems
from webapp.api.common import UAI, bp, principal
from webapp.api.errors import ApiError
from webapp.database import db_session


@bp.get("/establishments/<uai>")
def show_establishment(uai: str):
    """The school file with its completeness, missing fields and people."""
    session = db_session()
    establishment = (session.scalar(select(Establishment).where(Establishment.uai == uai.upper()))
                     if UAI.match(uai) else None)
    if establishment is None:
        raise ApiError(404, "Cet établissement n'existe pas.")
    require_view_establishment(session, principal(), establishment)
    campaign = current_campaign(session)
    missing = school_file_problems(school_file(session, establishment),
                                   campaign.pupil_count_year if campaign is not None else None)
    people = SqlDirectory(session).people(establishment.id, ("referent", "tuteur", "cotuteur"))
    return jsonify({
        **establishment_file(establishment),
        "complete": not missing,
        "missing": missing,
        "people": [{key: card[key] for key in ("name", "role", "role_label", "email", "phone")} for card in people],
    })
