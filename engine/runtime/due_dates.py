"""Due dates of user tasks, set by analysts on the BPMN task, and calendar arithmetic on ISO 8601 durations.

A user task carries `<spiffworkflow:property name="dueIn" value="P21D"/>` in its
`spiffworkflow:properties` (as it carries its form's file name): the task is due
that long after it became ready. Durations follow ISO 8601 (`P21D`, `P3W`,
`PT48H`, `P1M`); months and years count in calendar months from the start, the
day kept (31 January + `P1M` is 28 or 29 February, the month's last day).

A task due relative to a date of its process rather than to when it became
ready also names that date with `dueFrom`, a path in the task's data
(`<spiffworkflow:property name="dueFrom" value="session.session_date"/>`): it is
due on that date (at the start of the day), `dueIn` later when both are given —
the attendance of a training a week after the session, a contract before the
mission starts. A task without either property has no due date; an unreadable
value, or a date missing from the data, gives none either, and the dashboard
says so next to the step.
"""
from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

DUE_PROPERTY = "dueIn"
FROM_PROPERTY = "dueFrom"


def _property(task_spec, name: str) -> str | None:
    extensions = getattr(task_spec, "extensions", None) or {}
    value = (extensions.get("properties") or {}).get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def due_duration(task_spec) -> str | None:
    """The raw `dueIn` value of a task spec, or None."""
    return _property(task_spec, DUE_PROPERTY)


def due_origin(task_spec) -> str | None:
    """The raw `dueFrom` value of a task spec (a path in the task's data), or None."""
    return _property(task_spec, FROM_PROPERTY)


def parse_duration(value: str) -> dict | None:
    """An ISO 8601 duration as SpiffWorkflow parses it, or None when it is not one."""
    if not value.startswith("P"):
        return None
    try:
        parsed = TimerEventDefinition.parse_iso_duration(value)
    except Exception:  # SpiffWorkflow raises a bare Exception on any malformed duration
        return None
    return parsed if any(parsed.values()) else None


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later (or earlier), or the month's last day when it is shorter."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


def shifted(moment: datetime, parsed: dict, times: int = 1) -> datetime:
    """`moment` moved `times` times a parsed duration, months and years on the calendar from `moment` itself.

    Counting every occurrence from the same start keeps the day: the third month after 31 January is 30 April,
    not the 28th reached month after month through February.
    """
    months = times * (parsed.get("years", 0) * 12 + parsed.get("months", 0))
    whole = int(months)
    result = add_months(moment, whole)
    if months != whole:
        # A fraction of a month (`P1.5M`) counts in days of the month it falls in.
        result += timedelta(days=(months - whole) * monthrange(result.year, result.month)[1])
    return result + times * timedelta(weeks=parsed.get("weeks", 0), days=parsed.get("days", 0),
                                      hours=parsed.get("hours", 0), minutes=parsed.get("minutes", 0),
                                      seconds=parsed.get("seconds", 0))


def due_after(value: str | None, start: datetime) -> datetime | None:
    """When a task that became ready at `start` is due, for a `dueIn` value; None when none or unreadable."""
    parsed = parse_duration(value) if value else None
    if parsed is None:
        return None
    return shifted(start, parsed)


def date_in(data: dict, path: str) -> datetime | None:
    """The date (at the start of its day) or date and time found at a dotted path of task data, or None."""
    value: object = data
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone().replace(tzinfo=None) if moment.tzinfo is not None else moment


def due_date(task_spec, start: datetime, data: dict | None = None) -> datetime | None:
    """When a task of this spec that became ready at `start`, with task data `data`, is due, or None."""
    origin = due_origin(task_spec)
    if origin is None:
        return due_after(due_duration(task_spec), start)
    moment = date_in(data or {}, origin)
    duration = due_duration(task_spec)
    if moment is None or duration is None:
        return moment
    parsed = parse_duration(duration)
    return shifted(moment, parsed) if parsed is not None else None


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
