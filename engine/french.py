"""French formats shared by pages, documents and task instructions.

The one home of these formats: templates (`webapp.formatting`), task instructions (`engine.views.task_view`) and
what handlers write (contracts, messages, form errors) all call them, so that a date reads the same everywhere.
Nothing here imports the rest of the engine: handlers may import this module.
"""
from __future__ import annotations

from datetime import date, datetime

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]


def date_fr(value: date | datetime | str | None) -> str:
    """A date as « 28 novembre 2026 », the first of a month as « 1er octobre 2027 »; text that is not an ISO date
    is returned as is."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = date.fromisoformat(text)
        except ValueError:
            return text
    # French writes the first day of a month as an ordinal, the others as cardinals.
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def datetime_fr(value: datetime | None) -> str:
    """A moment as « 28 novembre 2026 à 14 h 05 »."""
    if value is None:
        return ""
    return f"{date_fr(value)} à {value.hour} h {value.minute:02d}"


def number_fr(value: float | int | None) -> str:
    """A number with French separators: 12 345,5."""
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{int(value):,}".replace(",", "\u202f")
