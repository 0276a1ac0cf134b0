"""French formats shared by pages, documents and task instructions."""
from __future__ import annotations

from datetime import date, datetime

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]


def date_fr(value: date | datetime | str | None) -> str:
    """A date as « 28 novembre 2026 »; text that is not an ISO date is returned as is."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        text = value
        try:
            value = date.fromisoformat(text)
        except ValueError:
            return text
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


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
