"""French formats for dates, numbers and phone numbers in templates."""
from __future__ import annotations

from flask import Flask

from handlers.formats import date_fr, datetime_fr, number_fr
from handlers.identifiers import display_phone


def capitalize_first(text: str) -> str:
    """Upper-case the first letter only (Jinja's `capitalize` lowers the rest, names included)."""
    return text[:1].upper() + text[1:] if text else ""


def register_filters(app: Flask) -> None:
    """Make the French formats available to templates."""
    app.jinja_env.filters.update(date_fr=date_fr, datetime_fr=datetime_fr, number_fr=number_fr, phone=display_phone,
                                 capitalize_first=capitalize_first)
