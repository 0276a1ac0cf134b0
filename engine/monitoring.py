"""The dashboard of process owners and gestionnaires: aggregate SQL over instances and waiting tasks.

Every figure is one grouped query on the instance and task tables (indexed by
process, version, status, step and age in migration 0009): no instance is
loaded nor deserialised. A gestionnaire's figures only count the instances of
their territory (`engine.access.instance_filter`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, case, cast, func, select
from sqlalchemy.orm import Session

from engine.access import Principal, instance_filter
from engine.deployment import bundle_for
from engine.due_dates import due_duration, duration_fr, parse_duration
from engine.models import Deployment, Establishment, ProcessInstance, TaskRow
from engine.models.runtime import INSTANCE_STATUSES
from engine.queries import territory_clause

NETWORKS = ("SGEC", "CNEAP")


@dataclass
class Filters:
    """What the dashboard looks at: a process, a version (None: all) and optional filters."""

    process_id: str
    version: int | None = None
    territory: str | None = None
    network: str | None = None
    establishment_uai: str | None = None
    step: str | None = None
    status: str | None = None
    started_from: date | None = None
    started_to: date | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as query parameters, to rebuild links and exports."""
        values = {"processus": self.process_id, "version": self.version, "territoire": self.territory,
                  "reseau": self.network, "etablissement": self.establishment_uai, "etape": self.step,
                  "statut": self.status, "du": self.started_from, "au": self.started_to}
        return {key: str(value) for key, value in values.items() if value not in (None, "")}


def parse_filters(args: Mapping[str, str], default_process: str) -> tuple[Filters, list[str]]:
    """Filters from query parameters, with the French message of each one ignored because unreadable."""
    errors: list[str] = []

    def text(name: str, limit: int = 100) -> str | None:
        value = (args.get(name) or "").strip()
        return value[:limit] or None

    filters = Filters(process_id=text("processus") or default_process)
    version = text("version")
    if version is not None:
        if version.isascii() and version.isdigit() and 0 < int(version) < 2**31:
            filters.version = int(version)
        else:
            errors.append(f"Version « {version} » inconnue : toutes les versions sont affichées.")
    filters.territory = text("territoire", 40)
    filters.network = text("reseau", 10)
    if filters.network is not None and filters.network not in NETWORKS:
        errors.append(f"Réseau « {filters.network} » inconnu : filtre ignoré.")
        filters.network = None
    filters.establishment_uai = (text("etablissement", 8) or "").upper() or None
    filters.step = text("etape")
    filters.status = text("statut", 12)
    if filters.status is not None and filters.status not in INSTANCE_STATUSES:
        errors.append(f"Statut « {filters.status} » inconnu : filtre ignoré.")
        filters.status = None
    for name, attribute in (("du", "started_from"), ("au", "started_to")):
        value = text(name, 10)
        if value is None:
            continue
        try:
            setattr(filters, attribute, date.fromisoformat(value))
        except ValueError:
            errors.append(f"Date « {value} » illisible (attendu : AAAA-MM-JJ) : filtre ignoré.")
    if filters.started_from and filters.started_to and filters.started_from > filters.started_to:
        errors.append("La date de début de la période est après sa date de fin : aucun dossier ne peut correspondre.")
    return filters, errors


def instance_conditions(session: Session, principal: Principal, filters: Filters, with_status: bool = True) -> list:
    """SQL conditions on `process_instance` for the principal's scope and the filters."""
    conditions = [instance_filter(principal), ProcessInstance.process_id == filters.process_id]
    if filters.version is not None:
        conditions.append(ProcessInstance.deployment_id == filters.version)
    if filters.territory:
        conditions.append(territory_clause(session, filters.territory))
    if filters.network:
        conditions.append(ProcessInstance.establishment_id.in_(
            select(Establishment.id).where(Establishment.network == filters.network)))
    if filters.establishment_uai:
        conditions.append(ProcessInstance.establishment_id.in_(
            select(Establishment.id).where(Establishment.uai == filters.establishment_uai)))
    if filters.step:
        conditions.append(ProcessInstance.id.in_(
            select(TaskRow.instance_id).where(TaskRow.state == "ready", TaskRow.spec_id == filters.step)))
    if with_status and filters.status:
        conditions.append(ProcessInstance.status == filters.status)
    if filters.started_from:
        conditions.append(ProcessInstance.created_at >= datetime.combine(filters.started_from, time.min))
    if filters.started_to:
        conditions.append(ProcessInstance.created_at < datetime.combine(filters.started_to + timedelta(days=1),
                                                                         time.min))
    return conditions


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
    conditions = [TaskRow.state == "ready", *instance_conditions(session, principal, filters)]
    base = select(TaskRow).join(ProcessInstance, ProcessInstance.id == TaskRow.instance_id).where(*conditions)
    steps: dict[tuple[str, str], StepWait] = {}
    deployment = _deployment_of(session, filters)
    if deployment is not None and filters.process_id in deployment.process_ids:
        for process_id, spec_id, title, due_in in user_steps(bundle_for(deployment), filters.process_id):
            steps[(process_id, spec_id)] = StepWait(process_id, spec_id, title, due_in=due_in)
    totals = session.execute(
        base.with_only_columns(TaskRow.process_id, TaskRow.spec_id, func.max(TaskRow.title), func.count(),
                               func.min(TaskRow.created_at),
                               func.sum(case((TaskRow.due_at < now, 1), else_=0)))
        .group_by(TaskRow.process_id, TaskRow.spec_id))
    for process_id, spec_id, title, count, oldest, overdue in totals:
        step = steps.setdefault((process_id, spec_id), StepWait(process_id, spec_id, title))
        step.waiting, step.oldest, step.overdue = count, oldest, int(overdue or 0)
    for key, median in _median_starts(session, base).items():
        if key in steps:
            steps[key].median = median
    return list(steps.values())


def _median_starts(session: Session, base) -> dict[tuple[str, str], datetime]:
    """Median start of the wait per step, from the one or two middle rows of each step (window functions)."""
    partition = (TaskRow.process_id, TaskRow.spec_id)
    ranked = base.with_only_columns(
        TaskRow.process_id, TaskRow.spec_id, TaskRow.created_at,
        func.row_number().over(partition_by=partition, order_by=(TaskRow.created_at, TaskRow.id)).label("position"),
        func.count().over(partition_by=partition).label("total"),
    ).subquery()
    middle = select(ranked.c.process_id, ranked.c.spec_id, ranked.c.created_at).where(
        ranked.c.position.in_([(ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2]))
    values: dict[tuple[str, str], list[datetime]] = {}
    for process_id, spec_id, created_at in session.execute(middle):
        values.setdefault((process_id, spec_id), []).append(created_at)
    return {key: found[0] + (found[-1] - found[0]) / 2 for key, found in values.items()}


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


def monitored_processes(session: Session) -> dict[str, str]:
    """Processes that instances are started on (not only called by others), with their labels."""
    labels: dict[str, str] = {}
    latest = versions(session)
    if latest:
        bundle = bundle_for(latest[0])
        called = {name for process_id in bundle.specs for name in bundle.subprocess_specs.get(process_id, {})}
        labels.update({pid: bundle.process_name(pid) for pid in bundle.specs if pid not in called})
    for (process_id,) in session.execute(select(ProcessInstance.process_id).distinct()):
        labels.setdefault(process_id, process_id)
    return labels


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
    query = (select(TaskRow.instance_id, ProcessInstance.title, Establishment.name, TaskRow.title, TaskRow.spec_id,
                    TaskRow.created_at, TaskRow.due_at)
             .join(ProcessInstance, ProcessInstance.id == TaskRow.instance_id)
             .outerjoin(Establishment, Establishment.id == ProcessInstance.establishment_id)
             .where(TaskRow.state == "ready", TaskRow.due_at < now,
                    *instance_conditions(session, principal, filters)))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(TaskRow.due_at, TaskRow.id).limit(limit))
    return [OverdueTask(*row) for row in rows], total


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
    if by == "territory":
        key = func.coalesce(ProcessInstance.department, ProcessInstance.structure_code)
        query = select(key, ProcessInstance.status, func.count())
    else:
        key = Establishment.network
        query = (select(key, ProcessInstance.status, func.count())
                 .outerjoin(Establishment, Establishment.id == ProcessInstance.establishment_id))
    rows = session.execute(query.where(*instance_conditions(session, principal, filters))
                           .group_by(key, ProcessInstance.status))
    found: dict[str, Breakdown] = {}
    for value, status, count in rows:
        label = value or "—"
        found.setdefault(label, Breakdown(label)).counts[status] = count
    return sorted(found.values(), key=lambda item: item.key)


@dataclass
class Week:
    """Instances started and ended in one week (from Monday)."""

    start: date
    started: int = 0
    ended: int = 0


def weekly_throughput(session: Session, principal: Principal, filters: Filters, until: date,
                      weeks: int = 12) -> list[Week]:
    """Instances started and ended per week over the `weeks` weeks up to `until`, oldest first."""
    last_monday = until - timedelta(days=until.weekday())
    first_monday = last_monday - timedelta(weeks=weeks - 1)
    result = {first_monday + timedelta(weeks=n): Week(first_monday + timedelta(weeks=n)) for n in range(weeks)}
    since = datetime.combine(first_monday, time.min)
    conditions = instance_conditions(session, principal, filters)
    for column, attribute in ((ProcessInstance.created_at, "started"), (ProcessInstance.ended_at, "ended")):
        # Grouped on a subquery's column: PostgreSQL would not match two renderings of the same expression.
        weeks_of = select(_week_start(session, column).label("week")).where(*conditions, column >= since).subquery()
        rows = session.execute(select(weeks_of.c.week, func.count()).group_by(weeks_of.c.week))
        for start, count in rows:
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
