"""Retention of personal data: the `x-personal` mark of a form field, and the day a value stops being kept.

`"x-personal": true` keeps a value until the default rule's end, `GDPR_RETENTION_DAYS` (365 by default) after the
end of the campaign (31 August); `{"retention": "P5Y"}` keeps it for that ISO 8601 period (years, months, days)
after the end of the campaign instead; `false` says a field holds no personal data. No import beyond the standard
library: the validator reads the marks too.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

# The retention of a field marked `true`: the instance's setting, `GDPR_RETENTION_DAYS` after the campaign's end.
DEFAULT = "default"
_PERIOD = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?")


def mark_problem(mark: object) -> str | None:
    """What is wrong with an `x-personal` mark, in French, or None when it is well formed."""
    if isinstance(mark, bool):
        return None
    if not isinstance(mark, dict) or set(mark) != {"retention"}:
        return ("« x-personal » vaut true, false ou un objet de la forme {\"retention\": \"P2Y\"} (durée de "
                "conservation après la fin de la campagne).")
    retention = mark["retention"]
    if not isinstance(retention, str) or not _PERIOD.fullmatch(retention) or retention == "P":
        return (f"durée de conservation « {retention} » illisible : écrivez une durée ISO 8601 en années, mois "
                "ou jours, comme « P2Y », « P18M » ou « P2Y6M ».")
    return None


def retention_of(mark: object) -> str | None:
    """The retention key of a well-formed mark (`DEFAULT` or a period), or None for a field holding no personal data."""
    if mark is True:
        return DEFAULT
    if isinstance(mark, dict) and mark_problem(mark) is None:
        return str(mark["retention"])
    return None


def expiry(campaign_end: date, retention: str, default_days: int) -> date:
    """Last day a value of that retention is kept, for a campaign ending on `campaign_end`."""
    if retention == DEFAULT:
        return campaign_end + timedelta(days=default_days)
    match = _PERIOD.fullmatch(retention)
    years, months, days = (int(part or 0) for part in match.groups()) if match else (0, 0, 0)
    month_index = campaign_end.month - 1 + months
    year, month = campaign_end.year + years + month_index // 12, month_index % 12 + 1
    # 31 August plus 6 months is the last day of February.
    day = min(campaign_end.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) + timedelta(days=days)
