"""The campaign calendar."""
from __future__ import annotations

from datetime import date


def current_campaign(today: date) -> str:
    """School year whose missions are being prepared: from September, the next one's.

    Projects are submitted in spring for missions starting in September, so in
    November 2026 as in March 2027 the campaign is 2027-2028.
    """
    first = today.year + 1 if today.month >= 9 else today.year
    return f"{first}-{first + 1}"
