"""The dashboard's list of instances and its exports (CSV for any spreadsheet, XLSX for Excel).

One SQL statement reads the page, walking the index of the process's instances
by last update, and a second one the wait at the current step and its due date
of those instances only (the index of tasks by instance and state). An export
streams every row in batches, each with the same second statement. No instance
is loaded as an object.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.access import Principal
from engine.models import Establishment, ProcessInstance, TaskRow
from engine.models.runtime import INSTANCE_STATUSES
from engine.views import spreadsheets
from engine.views.monitoring import Filters, Selection
from engine.views.pages import Page, bounded_page

EXPORT_HEADERS = ["Dossier", "Intitulé", "Processus", "Version", "Statut", "Établissement", "UAI", "Département",
                  "Réseau", "Campagne", "Étape en cours", "En attente depuis", "Échéance", "Démarré le", "Terminé le",
                  "Incident"]


@dataclass
class ListedInstance:
    """One line of the dashboard's list."""

    id: int
    title: str
    process_id: str
    version: int
    status: str
    establishment: str | None
    uai: str | None
    department: str | None
    network: str | None
    campaign: str | None
    current_step: str | None
    waiting_since: datetime | None
    due_at: datetime | None
    created_at: datetime
    ended_at: datetime | None
    incident: str | None

    @property
    def status_label(self) -> str:
        """Status in French."""
        return INSTANCE_STATUSES.get(self.status, self.status)

    def overdue(self, now: datetime) -> bool:
        """Whether the instance waits past its current step's due date."""
        return self.due_at is not None and self.due_at < now


XLSX_WIDTHS = [9, 50, 22, 8, 12, 32, 10, 12, 9, 11, 36, 17, 17, 17, 17, 50]


def _columns() -> tuple:
    """The listed columns but the wait, labelled as the fields of `ListedInstance`."""
    return (ProcessInstance.id, ProcessInstance.title, ProcessInstance.process_id,
            ProcessInstance.deployment_id.label("version"), ProcessInstance.status,
            Establishment.name.label("establishment"), Establishment.uai, ProcessInstance.department,
            Establishment.network, ProcessInstance.campaign, ProcessInstance.current_step, ProcessInstance.created_at,
            ProcessInstance.ended_at, ProcessInstance.incident)


def instance_page(session: Session, principal: Principal, filters: Filters, page: int,
                  per_page: int) -> Page[ListedInstance]:
    """One page of the filtered instances, most recently changed first, with how many match."""
    selection = Selection(session, principal, filters)
    total = session.execute(select(func.count()).select_from(ProcessInstance)
                            .where(*selection.instances)).scalar_one()
    return listed_page(session, selection, page, per_page, total)


def listed_page(session: Session, selection: Selection, page: int, per_page: int,
                total: int) -> Page[ListedInstance]:
    """One page of a selection's instances, most recently changed first (two statements, whatever the page);
    `total` is how many the selection holds, counted by the caller, and bounds the page number.

    The page is cut from the instances alone, then joined: the establishment is read for its rows only, even
    when the database sorts the instances instead of walking the index (it may, lacking statistics)."""
    number = bounded_page(page, per_page, total)
    order = (ProcessInstance.updated_at.desc(), ProcessInstance.id.desc())
    cut = (select(ProcessInstance.id, ProcessInstance.updated_at).where(*selection.instances).order_by(*order)
           .limit(per_page).offset((number - 1) * per_page).subquery())
    rows = session.execute(
        select(*_columns()).join(cut, cut.c.id == ProcessInstance.id)
        .outerjoin(Establishment, Establishment.id == ProcessInstance.establishment_id)
        .order_by(cut.c.updated_at.desc(), cut.c.id.desc())).all()
    return Page(_with_waits(session, rows) if rows else [], number, per_page, total)


def all_instances(session: Session, principal: Principal, filters: Filters) -> Iterator[ListedInstance]:
    """Every filtered instance, read in batches, each batch with the waits of its instances."""
    query = (select(*_columns()).outerjoin(Establishment, Establishment.id == ProcessInstance.establishment_id)
             .where(*Selection(session, principal, filters).instances)
             .order_by(ProcessInstance.updated_at.desc(), ProcessInstance.id.desc()))
    for batch in session.execute(query.execution_options(yield_per=500)).partitions():
        yield from _with_waits(session, batch)


def _with_waits(session: Session, rows) -> list[ListedInstance]:
    """Listed instances from rows of `_columns()`, with the start and due date of the wait at their current step,
    read for these instances only (the index of tasks by instance and state)."""
    waits = {instance_id: (since, due) for instance_id, since, due in session.execute(
        select(TaskRow.instance_id, func.min(TaskRow.created_at), func.min(TaskRow.due_at))
        .where(TaskRow.instance_id.in_([row.id for row in rows]), TaskRow.state == "ready")
        .group_by(TaskRow.instance_id))}
    listed = []
    for row in rows:
        since, due = waits.get(row.id, (None, None))
        listed.append(ListedInstance(**row._mapping, waiting_since=since, due_at=due))
    return listed


def export_values(item: ListedInstance, process_label: str) -> list:
    """The exported cells of one instance, in the order of `EXPORT_HEADERS` (dates as datetimes)."""
    cell = spreadsheets.spreadsheet_text
    return [item.id, cell(item.title), cell(process_label), item.version, item.status_label, cell(item.establishment),
            cell(item.uai), cell(item.department), cell(item.network), cell(item.campaign), cell(item.current_step),
            item.waiting_since, item.due_at, item.created_at, item.ended_at, cell(item.incident)]


def csv_lines(items: Iterable[ListedInstance], process_label: str) -> Iterator[str]:
    """The CSV export of the listed instances, line by line."""
    return spreadsheets.csv_lines(EXPORT_HEADERS, (export_values(item, process_label) for item in items))


def xlsx_bytes(items: Iterable[ListedInstance], process_label: str) -> bytes:
    """The XLSX export of the listed instances."""
    return spreadsheets.xlsx_bytes("Dossiers", EXPORT_HEADERS, XLSX_WIDTHS,
                                   (export_values(item, process_label) for item in items))
