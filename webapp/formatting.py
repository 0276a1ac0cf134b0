"""French formats for dates, numbers, plurals, phone numbers and structure names in templates."""
from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, g

from engine.directory.lookups import structure_names
from engine.models import Structure
from handlers.formats import date_fr, datetime_fr, number_fr, plural
from handlers.identifiers import display_phone
from webapp.database import db_session


def capitalize_first(text: str) -> str:
    """Upper-case the first letter only (Jinja's `capitalize` lowers the rest, names included)."""
    return text[:1].upper() + text[1:] if text else ""


def structure_name(code: str | None) -> str:
    """The display name of a structure code (« Udogec d'Ille-et-Vilaine » for « UDOGEC-35 »), the code itself when
    the directory does not know it."""
    if not code:
        return ""
    # Read all names once per request: a list page names a structure on every row.
    if "structure_names" not in g:
        g.structure_names = structure_names(db_session())
    return g.structure_names.get(code, code)


def structure_names_known(structures: Iterable[Structure]) -> None:
    """Let `structure_name` use structures this request already read, rather than read them again."""
    g.structure_names = {structure.code: structure.name for structure in structures}


def register_filters(app: Flask) -> None:
    """Make the French formats available to templates."""
    app.jinja_env.filters.update(date_fr=date_fr, datetime_fr=datetime_fr, number_fr=number_fr, phone=display_phone,
                                 capitalize_first=capitalize_first, structure_name=structure_name,
                                 plural=plural)
