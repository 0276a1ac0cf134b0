"""French formats for what handlers write: short dates, amounts and file names in documents and messages.

Long dates (« 1er octobre 2027 ») are `engine.french.date_fr`, shared with the pages.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date


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
