"""French formats: dates, numbers, amounts, plurals and file names, the same in documents, messages and pages.

The one home of these formats, at the bottom of the layers: handlers write contracts and messages with them, and
the engine (task instructions, refusals) and the web app (template filters) import them from here, so that a
date reads the same everywhere.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime


def as_date(value: str | date) -> date:
    """A date from an ISO text or a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def french_date(value: str | date) -> str:
    """A date as 28/11/2026."""
    return as_date(value).strftime("%d/%m/%Y")


def french_amount(value: float) -> str:
    """An amount as 1 234,56 €."""
    return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0€"


def slug(text: str) -> str:
    """Text as a file name part: ASCII letters and digits, dashes between words (« Léa Martin » → lea-martin)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower() or "document"


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


def plural(count: int, singular: str, plural: str | None = None) -> str:
    """A count and the words agreeing with it: « 0 rejeté », « 1 fichier », « 3 créés », « 2 places libres ».

    French keeps the singular for 0 and 1. Without `plural`, the word takes an « s » unless it already ends in s, x
    or z; give `plural` for several words (« fichiers envoyés », « mis à jour ») and irregular plurals.
    """
    if count > 1:
        words = plural if plural is not None else (singular if singular[-1:] in ("s", "x", "z") else singular + "s")
    else:
        words = singular
    return f"{number_fr(count)} {words}"
