"""Due dates of user tasks, set by analysts on the BPMN task as an ISO 8601 duration.

A user task carries `<spiffworkflow:property name="dueIn" value="P21D"/>` in its
`spiffworkflow:properties` (as it carries its form's file name): the task is due
that long after it became ready. Durations follow ISO 8601 (`P21D`, `P3W`,
`PT48H`, `P1M`); months count in calendar months from the start. A task
without the property has no due date; an unreadable value is ignored, and the
dashboard says so next to the step.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

DUE_PROPERTY = "dueIn"


def due_duration(task_spec) -> str | None:
    """The raw `dueIn` value of a task spec, or None."""
    extensions = getattr(task_spec, "extensions", None) or {}
    value = (extensions.get("properties") or {}).get(DUE_PROPERTY)
    return value.strip() if isinstance(value, str) and value.strip() else None


def parse_duration(value: str) -> dict | None:
    """An ISO 8601 duration as SpiffWorkflow parses it, or None when it is not one."""
    if not value.startswith("P"):
        return None
    try:
        parsed = TimerEventDefinition.parse_iso_duration(value)
    except Exception:  # SpiffWorkflow raises a bare Exception on any malformed duration
        return None
    return parsed if any(parsed.values()) else None


def due_after(value: str | None, start: datetime) -> datetime | None:
    """When a task that became ready at `start` is due, for a `dueIn` value; None when none or unreadable."""
    parsed = parse_duration(value) if value else None
    if parsed is None:
        return None
    delta: timedelta = TimerEventDefinition.get_timedelta_from_start(parsed, start)
    return start + delta


def due_date(task_spec, start: datetime) -> datetime | None:
    """When a task of this spec that became ready at `start` is due, or None."""
    return due_after(due_duration(task_spec), start)


UNITS = (("years", "an", "ans"), ("months", "mois", "mois"), ("weeks", "semaine", "semaines"),
         ("days", "jour", "jours"), ("hours", "heure", "heures"), ("minutes", "minute", "minutes"))


def duration_fr(value: str | None) -> str | None:
    """A due duration in words: « 21 jours », « 1 mois et 2 jours »; None when absent or unreadable."""
    parsed = parse_duration(value) if value else None
    if parsed is None:
        return None
    words = []
    for key, one, many in UNITS:
        amount = parsed.get(key)
        if amount:
            amount = int(amount) if float(amount).is_integer() else amount
            words.append(f"{amount} {one if amount == 1 else many}")
    return " et ".join(", ".join(words).rsplit(", ", 1)) if words else None
