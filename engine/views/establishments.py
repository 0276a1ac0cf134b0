"""The establishments a person may see, filtered, one page at a time, and what each school file lacks.

Names are searched without regard to case or accents, the same on SQLite and PostgreSQL. Neither database folds
accents by itself (PostgreSQL needs the `unaccent` extension; SQLite's `lower` folds ASCII letters only, and a
chain of `replace` long enough for French letters overflows its parser), so a name search reads the id and name
of the establishments in scope and compares them here: about 40 ms on SQLite for the 7,500 schools of the
country (a process owner's scope), 4 ms without a name.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.access import Principal, viewable_establishments
from engine.campaign.campaigns import current_campaign
from engine.directory.lookups import establishment_file
from engine.models import Establishment, PupilCount
from engine.views.cursors import decode_key, encode_key
from engine.views.pages import Page, bounded_page, paginate
from handlers.school_file import school_file_problems


def _base_letters(letter: str) -> str:
    return "".join(part for part in unicodedata.normalize("NFKD", letter) if not unicodedata.combining(part))


# One translation table, built once, rather than decomposing every name of the country at every search: Latin
# letters with accents to their base letters, combining accents (of a text written decomposed) dropped, the
# ligatures Unicode does not decompose spelt out, and the typographic apostrophe of "d’Arc" made the one
# keyboards type.
FOLDING: dict[int, str | None] = {
    **{code: _base_letters(chr(code)) for code in range(0xC0, 0x250) if _base_letters(chr(code)) != chr(code)},
    **dict.fromkeys(range(0x300, 0x370)),
    ord("œ"): "oe", ord("æ"): "ae", ord("’"): "'",
}


@dataclass
class EstablishmentSearch:
    """Filters of the establishment list; None means no filter."""

    department: str | None = None
    uai: str | None = None
    name: str | None = None


def folded_text(text: str) -> str:
    """A text as name searches compare it: without case, accents nor ligatures ("École" and "ecole" alike)."""
    return text.casefold().translate(FOLDING)


def search_establishments(session: Session, principal: Principal, search: EstablishmentSearch, page: int,
                          per_page: int, *, clamp: bool = True) -> Page[Establishment]:
    """One page of the establishments the principal may see that match the filters, by UAI; `clamp` as in
    `paginate`.

    The UAI is unique, so that no establishment moves between pages, compares alike on SQLite and PostgreSQL
    whatever the locale (names do not), is indexed, and begins with the department, which it groups by."""
    query = _matching(principal, search)
    if not search.name:
        return paginate(session, query, page, per_page, clamp=clamp)
    matching = _named(session, query, search.name)
    if clamp:
        page = bounded_page(page, per_page, len(matching))
    shown = matching[(page - 1) * per_page:page * per_page]
    items = list(session.scalars(select(Establishment).where(Establishment.id.in_(shown)).order_by(Establishment.uai)))
    return Page(items, page, per_page, len(matching))


# The first value of an establishment list's cursor: another list's cursor is refused here.
CURSOR_TAG = "etablissements"


@dataclass(frozen=True)
class EstablishmentPage:
    """One page of the establishment list, by UAI, and the cursor of the next page if any."""

    items: list[Establishment]
    next_cursor: str | None
    limit: int


def establishment_page(session: Session, principal: Principal, search: EstablishmentSearch, limit: int,
                       cursor: str | None = None) -> EstablishmentPage:
    """One page of the establishments the principal may see that match the filters, by UAI, starting after the UAI
    `cursor` carries (the first page without it).

    The UAI is unique and never changes: a walk through every page meets each establishment once, one added
    meanwhile included if its UAI comes after the page being read.
    """
    after = decode_key(cursor, (f"={CURSOR_TAG}", "text"))[1] if cursor is not None else None
    query = _matching(principal, search)
    if after is not None:
        query = query.where(Establishment.uai > after)
    if not search.name:
        rows = list(session.scalars(query.limit(limit + 1)))
    else:
        ids = _named(session, query, search.name)[:limit + 1]
        rows = list(session.scalars(select(Establishment).where(Establishment.id.in_(ids))
                                    .order_by(Establishment.uai))) if ids else []
    following = encode_key([CURSOR_TAG, rows[limit - 1].uai]) if len(rows) > limit else None
    return EstablishmentPage(rows[:limit], following, limit)


def _named(session: Session, query: Select, name: str) -> list[int]:
    """The ids, in the query's order, of the establishments it selects whose name holds `name` (see `folded_text`)."""
    needle = folded_text(name)
    return [establishment_id for establishment_id, school in session.execute(
        query.with_only_columns(Establishment.id, Establishment.name)) if needle in folded_text(school)]


def _matching(principal: Principal, search: EstablishmentSearch) -> Select:
    """The establishments the principal may see that match the department and UAI filters, by UAI."""
    query = select(Establishment).where(viewable_establishments(principal))
    if search.department:
        query = query.where(Establishment.department == search.department.upper())
    if search.uai:
        query = query.where(Establishment.uai == search.uai.upper())
    return query.order_by(Establishment.uai)


def school_file_gaps(session: Session, establishments: list[Establishment]) -> dict[int, list[dict]]:
    """What each school file lacks for the campaign in which projects are submitted (the open one), by
    establishment id: the items the submission check refuses, read with every pupil count in one query."""
    campaign = current_campaign(session)
    year = campaign.pupil_count_year if campaign is not None else None
    counts: dict[int, dict[str, int]] = {establishment.id: {} for establishment in establishments}
    if establishments:
        for establishment_id, school_year, pupils in session.execute(
                select(PupilCount.establishment_id, PupilCount.school_year, PupilCount.pupil_count)
                .where(PupilCount.establishment_id.in_(list(counts)))):
            counts[establishment_id][school_year] = pupils
    gaps = {}
    for establishment in establishments:
        # The directory's latest count stands for its year, as `engine.directory.lookups.pupil_counts` reads it.
        if establishment.pupil_count is not None and establishment.pupil_count_year:
            counts[establishment.id][establishment.pupil_count_year] = establishment.pupil_count
        gaps[establishment.id] = school_file_problems(
            {**establishment_file(establishment), "pupil_counts": counts[establishment.id]}, year)
    return gaps
