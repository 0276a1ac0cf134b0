"""The dashboard of process owners and gestionnaires: aggregate SQL over instances and waiting tasks.

Every figure is one grouped query on the instance and task tables (indexed by
process, version, status, step and age in migrations 0009 and 0015_dashboard):
no instance is loaded nor deserialised. A gestionnaire's figures only count the
instances of their territory (`engine.access.instance_filter`).

Figures on waiting tasks start from the tasks and check each one's instance by
its primary key (`Selection.tasks`): waiting tasks are far fewer than
instances, and written as a join the database may instead walk every instance
and probe the tasks of each, the plan PostgreSQL picks when its statistics are
missing (a fresh bulk load, no autovacuum) — quadratic at national scale.
`engine.views.monitoring_page` assembles the whole page from these pieces.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, Over, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from engine.access import Principal, instance_filter
from engine.models import Deployment, Establishment, ProcessInstance, TaskRow
from engine.models.runtime import INSTANCE_STATUSES
from engine.runtime.deployment import bundle_for
from engine.runtime.due_dates import due_duration, duration_fr, parse_duration

# The filters live in their own module; the web layer and tests read them from here too.
from engine.views.monitoring_filters import NETWORKS, Filters, Selection, instance_conditions, parse_filters  # noqa: F401


def status_counts(session: Session, principal: Principal, filters: Filters) -> dict[str, int]:
    """Instances by status (every status listed, zero included); the status filter is not applied."""
    counts = dict.fromkeys(INSTANCE_STATUSES, 0)
    rows = session.execute(select(ProcessInstance.status, func.count()).where(
        *instance_conditions(session, principal, filters, with_status=False)).group_by(ProcessInstance.status))
    for status, count in rows:
        counts[status] = count
    return counts


@dataclass
class StepWait:
    """How many instances wait at one step, since when, and how many are past the step's due date."""

    process_id: str
    spec_id: str
    title: str
    waiting: int = 0
    oldest: datetime | None = None
    median: datetime | None = None
    overdue: int = 0
    due_in: str | None = None

    @property
    def due_label(self) -> str | None:
        """The due duration in words."""
        return duration_fr(self.due_in)

    @property
    def due_valid(self) -> bool:
        """Whether the step's due duration, if any, is a readable ISO 8601 duration."""
        return self.due_in is None or parse_duration(self.due_in) is not None


def user_steps(bundle, process_id: str) -> list[tuple[str, str, str, str | None]]:
    """(process id, step id, label, due duration) of every user task of a process and of what it calls."""
    found = []
    specs = {process_id: bundle.specs[process_id], **bundle.subprocess_specs.get(process_id, {})}
    for name, spec in specs.items():
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "manual", False) and task_spec.bpmn_id:
                found.append((name, task_spec.bpmn_id, task_spec.bpmn_name or task_spec.bpmn_id,
                              due_duration(task_spec)))
    return found


def step_waits(session: Session, principal: Principal, filters: Filters, now: datetime) -> list[StepWait]:
    """Waiting tasks by step: count, oldest and median start of the wait, overdue count.

    Steps of the chosen version (the latest one holding the process when all
    versions are shown) come first, waiting or not; then any other step
    instances of older versions still wait at.
    """
    return waits_by_step(session, Selection(session, principal, filters), now, _deployment_of(session, filters))


def waits_by_step(session: Session, selection: Selection, now: datetime,
                  deployment: Deployment | None) -> list[StepWait]:
    """`step_waits` for a selection, in one statement: window functions rank each step's waiting tasks by
    age, and only the first and middle ones come back, with the step's count and overdue count."""
    steps: dict[tuple[str, str], StepWait] = {}
    process_id = selection.filters.process_id
    if deployment is not None and process_id in deployment.process_ids:
        for owner, spec_id, title, due_in in user_steps(bundle_for(deployment), process_id):
            steps[(owner, spec_id)] = StepWait(owner, spec_id, title, due_in=due_in)
    step, age = (TaskRow.process_id, TaskRow.spec_id), (TaskRow.created_at, TaskRow.id)

    # One window ordering for all (the step's totals over its whole frame): one sort of the waiting tasks.
    def whole(function: FunctionElement[Any]) -> Over[Any]:
        return function.over(partition_by=step, order_by=age, rows=(None, None))

    ranked = select(
        TaskRow.process_id, TaskRow.spec_id, TaskRow.created_at,
        func.row_number().over(partition_by=step, order_by=age).label("position"),
        whole(func.count()).label("waiting"),
        whole(func.max(TaskRow.title)).label("title"),
        whole(func.sum(case((TaskRow.due_at < now, 1), else_=0))).label("overdue"),
    ).where(*selection.tasks).subquery()
    rows = session.execute(select(ranked).where(ranked.c.position.in_(
        [1, (ranked.c.waiting + 1) // 2, (ranked.c.waiting + 2) // 2])))
    middles: dict[tuple[str, str], dict[int, datetime]] = {}
    for owner, spec_id, created_at, position, waiting, title, overdue in rows:
        found = steps.setdefault((owner, spec_id), StepWait(owner, spec_id, title))
        found.waiting, found.overdue = waiting, int(overdue or 0)
        if position == 1:
            found.oldest = created_at
        middles.setdefault((owner, spec_id), {})[position] = created_at
    for key, at in middles.items():
        count = steps[key].waiting
        low, high = at[(count + 1) // 2], at[(count + 2) // 2]
        steps[key].median = low + (high - low) / 2
    return list(steps.values())


def _deployment_of(session: Session, filters: Filters) -> Deployment | None:
    """The version whose steps the dashboard lists: the chosen one, or the latest holding the process."""
    if filters.version is not None:
        return session.get(Deployment, filters.version)
    return next((d for d in versions(session) if filters.process_id in d.process_ids), None)


def versions(session: Session) -> list[Deployment]:
    """Every deployed version, newest first (there are few: one per change of the files)."""
    return list(session.scalars(select(Deployment).order_by(Deployment.id.desc())))


def version_counts(session: Session, principal: Principal, process_id: str) -> dict[int, int]:
    """Instances of a process the principal sees, by version."""
    return dict(session.execute(
        select(ProcessInstance.deployment_id, func.count())
        .where(instance_filter(principal), ProcessInstance.process_id == process_id)
        .group_by(ProcessInstance.deployment_id)).all())


def monitored_processes(session: Session, deployments: list[Deployment] | None = None) -> dict[str, str]:
    """Every deployed process with its label, in the catalogue's order: the processes people start first, then
    those only other processes call, then those of older versions and any process instances still run.

    Labels come from the newest version's catalogue (declared in the BPMN). `deployments` is
    `versions(session)` when the caller already has it."""
    labels: dict[str, str] = {}
    for deployment in versions(session) if deployments is None else deployments:
        entries = bundle_for(deployment).catalogue.entries.values()
        # Stable sort: within each group, the catalogue's own order (process id).
        for entry in sorted(entries, key=lambda entry: not entry.startable):
            labels.setdefault(entry.process_id, entry.label)
    for process_id in _started_processes(session):
        labels.setdefault(process_id, process_id)
    return labels


def _started_processes(session: Session) -> list[str]:
    """The processes instances run, walking the index on the process id from one value to the next: a seek
    per process (there are few) instead of reading every instance."""
    walk = select(func.min(ProcessInstance.process_id).label("process_id")).cte("started_process", recursive=True)
    following = select(func.min(ProcessInstance.process_id)).where(ProcessInstance.process_id > walk.c.process_id)
    walk = walk.union_all(select(following.scalar_subquery()).where(walk.c.process_id.is_not(None)))
    return list(session.scalars(select(walk.c.process_id).where(walk.c.process_id.is_not(None))))


@dataclass
class OverdueTask:
    """A task waiting past its due date, with its instance."""

    instance_id: int
    instance_title: str
    establishment: str | None
    task_title: str
    spec_id: str
    created_at: datetime
    due_at: datetime


def overdue_tasks(session: Session, principal: Principal, filters: Filters, now: datetime,
                  limit: int = 50) -> tuple[list[OverdueTask], int]:
    """The tasks past their due date, most overdue first (at most `limit`), and how many there are."""
    selection = Selection(session, principal, filters)
    total = session.execute(select(func.count()).select_from(TaskRow)
                            .where(*selection.tasks, TaskRow.due_at < now)).scalar_one()
    return most_overdue(session, selection, now, limit), total


def most_overdue(session: Session, selection: Selection, now: datetime, limit: int = 50) -> list[OverdueTask]:
    """The `limit` tasks of a selection most past their due date; instance and establishment read for those only."""
    of_task = ProcessInstance.id == TaskRow.instance_id
    title = select(ProcessInstance.title).where(of_task).correlate(TaskRow).scalar_subquery()
    school = (select(Establishment.name).join(ProcessInstance, ProcessInstance.establishment_id == Establishment.id)
              .where(of_task).correlate(TaskRow).scalar_subquery())
    rows = session.execute(
        select(TaskRow.instance_id, title, school, TaskRow.title, TaskRow.spec_id, TaskRow.created_at, TaskRow.due_at)
        .where(*selection.tasks, TaskRow.due_at < now).order_by(TaskRow.due_at, TaskRow.id).limit(limit))
    return [OverdueTask(*row) for row in rows]


@dataclass
class Breakdown:
    """Instances of one territory or network, by status."""

    key: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """All instances of this key."""
        return sum(self.counts.values())


def breakdown(session: Session, principal: Principal, filters: Filters, by: str) -> list[Breakdown]:
    """Instances by territory (department, or organising structure for trainings) or by network, and status."""
    return instance_summary(session, Selection(session, principal, filters)).breakdown(by)


@dataclass
class InstanceSummary:
    """How many instances of a selection there are per version, status, department, organising structure and
    network: every counter, breakdown and total of the page is a sum of these groups."""

    filters: Filters
    groups: list[tuple[int, str, str | None, str | None, str | None, int]]

    def _chosen(self, with_status: bool = True):
        for deployment_id, status, department, structure, network, count in self.groups:
            if self.filters.version is not None and deployment_id != self.filters.version:
                continue
            if with_status and self.filters.status and status != self.filters.status:
                continue
            yield status, department if department is not None else structure, network, count

    def status_counts(self) -> dict[str, int]:
        """Instances by status, every status listed; the status filter is not applied (as `status_counts`)."""
        counts = dict.fromkeys(INSTANCE_STATUSES, 0)
        for status, _territory, _network, count in self._chosen(with_status=False):
            counts[status] = counts.get(status, 0) + count
        return counts

    @property
    def total(self) -> int:
        """Instances matching every filter."""
        return sum(count for *_keys, count in self._chosen())

    def breakdown(self, by: str) -> list[Breakdown]:
        """Instances by territory or network, and status (as `breakdown`)."""
        found: dict[str, Breakdown] = {}
        for status, territory, network, count in self._chosen():
            label = (territory if by == "territory" else network) or "—"
            counts = found.setdefault(label, Breakdown(label)).counts
            counts[status] = counts.get(status, 0) + count
        return sorted(found.values(), key=lambda item: item.key)

    def version_counts(self) -> dict[int, int]:
        """Instances by version whatever their status: `version_counts`, when no other filter narrows them."""
        counts: dict[int, int] = {}
        for deployment_id, _status, _department, _structure, _network, count in self.groups:
            counts[deployment_id] = counts.get(deployment_id, 0) + count
        return counts


def instance_summary(session: Session, selection: Selection) -> InstanceSummary:
    """The instances of a selection grouped by version, status, territory and network, in one pass; the version
    and status filters are applied to the groups afterwards."""
    keys = (ProcessInstance.deployment_id, ProcessInstance.status, ProcessInstance.department,
            ProcessInstance.structure_code, Establishment.network)
    rows = session.execute(select(*keys, func.count())
                           .outerjoin(Establishment, Establishment.id == ProcessInstance.establishment_id)
                           .where(*selection.counted).group_by(*keys))
    # Unpacked rather than tuple(row), which would lose each column's type.
    return InstanceSummary(selection.filters, [(*row,) for row in rows])


@dataclass
class Week:
    """Instances started and ended in one week (from Monday)."""

    start: date
    started: int = 0
    ended: int = 0


def weekly_throughput(session: Session, principal: Principal, filters: Filters, until: date,
                      weeks: int = 12) -> list[Week]:
    """Instances started and ended per week over the `weeks` weeks up to `until`, oldest first."""
    return throughput(session, Selection(session, principal, filters), until, weeks)


def throughput(session: Session, selection: Selection, until: date, weeks: int = 12) -> list[Week]:
    """`weekly_throughput` for a selection, in one statement: starts and ends each read from their date index."""
    last_monday = until - timedelta(days=until.weekday())
    first_monday = last_monday - timedelta(weeks=weeks - 1)
    result = {first_monday + timedelta(weeks=n): Week(first_monday + timedelta(weeks=n)) for n in range(weeks)}
    since = datetime.combine(first_monday, time.min)
    # Grouped on a subquery's columns: PostgreSQL would not match two renderings of the same expression.
    moments = union_all(*(
        select(literal(attribute).label("kind"), _week_start(session, column).label("week"))
        .where(*selection.instances, column >= since)
        for column, attribute in ((ProcessInstance.created_at, "started"), (ProcessInstance.ended_at, "ended"))
    )).subquery()
    for attribute, start, count in session.execute(
            select(moments.c.kind, moments.c.week, func.count()).group_by(moments.c.kind, moments.c.week)):
        start = date.fromisoformat(start) if isinstance(start, str) else start
        start = start.date() if isinstance(start, datetime) else start
        if start in result:
            setattr(result[start], attribute, count)
    return list(result.values())


def _week_start(session: Session, column):
    """SQL expression of the Monday starting the week of a timestamp, for the database in use."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", column), Date)
    # SQLite: the coming Sunday (or the day itself), six days back.
    return func.date(column, "weekday 0", "-6 days")


def wait_fr(since: datetime | None, now: datetime) -> str:
    """How long since a moment, in French: « 3 jours », « 5 h », « moins d'une heure »."""
    if since is None:
        return "—"
    elapsed = now - since
    if elapsed >= timedelta(days=1):
        days = elapsed.days
        return f"{days} jour{'s' if days > 1 else ''}"
    hours = int(elapsed.total_seconds() // 3600)
    return f"{hours} h" if hours >= 1 else "moins d'une heure"


def wait_short(since: datetime | None, now: datetime) -> str:
    """How long since a moment, in few characters for diagram badges: « 9 j », « 5 h », « < 1 h »."""
    if since is None:
        return "—"
    elapsed = now - since
    if elapsed >= timedelta(days=1):
        return f"{elapsed.days} j"
    hours = int(elapsed.total_seconds() // 3600)
    return f"{hours} h" if hours >= 1 else "< 1 h"
