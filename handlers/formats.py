"""French formats for what handlers write: dates and amounts in documents and messages."""
from __future__ import annotations

import re
import unicodedata
from datetime import date

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]


def as_date(value: str | date) -> date:
    """A date from an ISO text or a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def french_date(value: str | date) -> str:
    """A date as 28/11/2026."""
    return as_date(value).strftime("%d/%m/%Y")


def long_date(value: str | date) -> str:
    """A date as « 1er octobre 2027 »."""
    day = as_date(value)
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def french_amount(value: float) -> str:
    """An amount as 1 234,56 €."""
    return f"{value:,.2f}".replace(",", "\u202f").replace(".", ",") + "\u00a0€"


def slug(text: str) -> str:
    """Text as a file name part: ASCII letters and digits, dashes between words (« Léa Martin » → lea-martin)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower() or "document"
