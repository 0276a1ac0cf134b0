"""School files through the API: the establishments in the caller's scope, and what the platform knows of one."""
from __future__ import annotations

import re

from flask import jsonify, request, url_for
from sqlalchemy import select

from engine.access import UNSEEN_ESTABLISHMENT, require_view_establishment
from engine.directory.lookups import SqlDirectory, establishment_file
from engine.errors import NotFound
from engine.models import Establishment
from engine.views.establishments import (
    EstablishmentSearch,
    establishment_page,
    school_file_gaps,
    search_establishments,
)
from webapp.api.common import UAI, bp, principal, query_int, query_text
from webapp.database import db_session

# Department codes as the directory writes them: 01 to 95, 2A and 2B, 971 to 976 (checked loosely: an unknown
# code lists nothing).
DEPARTMENT = re.compile(r"^(?:[0-9]{2,3}|2[ABab])$")
# Any printable text: control characters have no place in a name, and PostgreSQL refuses NUL.
NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


def establishment_summary(establishment: Establishment, gaps: list[dict]) -> dict:
    """An establishment as the list shows it: what GET /establishments/{uai} details, in short."""
    return {
        "id": establishment.id,
        "uai": establishment.uai,
        "name": establishment.name,
        "city": establishment.city,
        "department": establishment.department,
        "network": establishment.network,
        "pupil_count": establishment.pupil_count,
        "pupil_count_year": establishment.pupil_count_year,
        "complete": not gaps,
        "url": url_for("api.show_establishment", uai=establishment.uai),
    }


@bp.get("/establishments")
def list_establishments():
    """The establishments within the caller's scope, filtered, one page at a time by UAI, each page after `cursor`.
    `page` (deprecated, docs/api.md) still gives a page by number."""
    search = EstablishmentSearch(department=query_text("department", DEPARTMENT), uai=query_text("uai", UAI),
                                 name=query_text("name", NAME))
    # `per_page` is the deprecated name of `limit`.
    limit = query_int("limit", query_int("per_page", 20, 1, 100), 1, 100)
    session = db_session()
    if "page" in request.args:
        number = query_int("page", 1, 1, 100_000)
        # Not clamped, as /instances: a client walking the pages stops on the first empty one.
        found = search_establishments(session, principal(), search, number, limit, clamp=False)
        gaps = school_file_gaps(session, found.items)
        return jsonify({"items": [establishment_summary(item, gaps[item.id]) for item in found.items],
                        "total": found.total, "page": number, "per_page": limit})
    page = establishment_page(session, principal(), search, limit, query_text("cursor"))
    gaps = school_file_gaps(session, page.items)
    following = None if page.next_cursor is None else url_for(
        "api.list_establishments", limit=limit, cursor=page.next_cursor, department=search.department,
        uai=search.uai, name=search.name)
    return jsonify({"items": [establishment_summary(item, gaps[item.id]) for item in page.items], "limit": limit,
                    "next_cursor": page.next_cursor, "next": following})


@bp.get("/establishments/<uai>")
def show_establishment(uai: str):
    """The school file with its completeness, missing fields and people."""
    session = db_session()
    establishment = (session.scalar(select(Establishment).where(Establishment.uai == uai.upper()))
                     if UAI.match(uai) else None)
    if establishment is None:
        raise NotFound(UNSEEN_ESTABLISHMENT)
    require_view_establishment(session, principal(), establishment)
    missing = school_file_gaps(session, [establishment])[establishment.id]
    people = SqlDirectory(session).people(establishment.id, ("referent", "tuteur", "cotuteur"))
    return jsonify({
        **establishment_file(establishment),
        "complete": not missing,
        "missing": missing,
        "people": [{key: card[key] for key in ("name", "role", "role_label", "email", "phone")} for card in people],
    })
