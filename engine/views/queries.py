"""Read models for lists: a person's actionable tasks, and the instances they may follow, filtered.

The dossier list is cut by keyset (`instance_page`): its order is (last change, id), both descending, held by
the indexes ix_instance_updated and ix_instance_process_updated, or (creation, id), held by ix_instance_created_id
(0027_list_orders); the cursor is written and checked by `engine.views.cursors`."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, lazyload

from engine.access import Principal, instance_filter
from engine.models import Establishment, ProcessInstance, Structure, TaskRow
from engine.runtime.catalogue import current_catalogue
from engine.views.cursors import decode_key, encode_key
from engine.views.inbox import InboxFilter, actionable_conditions
from engine.views.pages import Page, paginate

# Statuses under which an establishment's hosting project of a campaign counts as existing.
# A school submits at most one project per campaign: a refused or suspended one counts; one a process owner
# terminated (started by mistake, say) does not.
LIVE_STATUSES = ("running", "completed", "refused", "incident", "suspended")
# Dossiers a page of the list shows by default, and at most (the API's `limit`).
LIST_LIMIT = 50
MAX_LIST_LIMIT = 100
# The first value of a dossier list's cursor, by order: the inbox's cursors, those of another list or of the other
# order are refused here.
CURSOR_TAG = "dossiers"
CURSOR_TAGS = {"updated": CURSOR_TAG, "created": "dossiers-par-creation"}
# The orders of the dossier list, by the date each sorts on, newest first, the id breaking ties. By last change (the
# default): what moved lately comes first, and a dossier that changes between two pages moves to the top. By
# creation, a date that never changes: a client walking every page meets each dossier exactly once, whatever
# changes meanwhile (those created since the walk began are on its first page).
ORDERS = {"updated": ProcessInstance.updated_at, "created": ProcessInstance.created_at}

InstanceRow = tuple[ProcessInstance, Establishment | None]


@dataclass
class InstanceSearch:
    """Filters of the instance list; None means no filter."""

    process: str | None = None
    status: str | None = None
    step: str | None = None
    establishment_uai: str | None = None
    territory: str | None = None
    campaign: str | None = None


def actionable_tasks(session: Session,
                     principal: Principal) -> list[tuple[TaskRow, ProcessInstance, Establishment | None]]:
    """Every ready task the principal may complete, oldest first, with their instance and establishment (pages
    read `engine.views.inbox.inbox_page`: this whole list is for checks and tools)."""
    return list(session.execute(
        select(TaskRow, ProcessInstance, Establishment)
        .join(ProcessInstance, ProcessInstance.id == TaskRow.instance_id)
        .outerjoin(Establishment, Establishment.id == TaskRow.establishment_id)
        .where(*actionable_conditions(principal, InboxFilter()))
        .order_by(TaskRow.created_at, TaskRow.id)
        # Each row's instance is the one selected beside it: joining it a second time for the task's
        # relationship would double the widest part of every row.
        .options(lazyload(TaskRow.instance))
    ).all())


@dataclass(frozen=True)
class InstancePage:
    """One page of the dossier list: its rows (instance, establishment), the cursor of the next page if any, and
    how many dossiers match the filters, by status (the status filter aside, so that each choice shows its own)."""

    items: list[InstanceRow]
    next_cursor: str | None
    limit: int
    by_status: dict[str, int]
    total: int


def _conditions(session: Session, principal: Principal, search: InstanceSearch, *, status: bool = True) -> list:
    """The SQL conditions of the instances the principal may see that match the filters (`status`: with its own)."""
    conditions = [instance_filter(principal)]
    if search.process:
        conditions.append(ProcessInstance.process_id == search.process)
    if search.status and status:
        conditions.append(ProcessInstance.status == search.status)
    if search.step:
        conditions.append(ProcessInstance.id.in_(
            select(TaskRow.instance_id).where(TaskRow.state == "ready", TaskRow.spec_id == search.step)))
    if search.establishment_uai:
        conditions.append(ProcessInstance.establishment_id.in_(
            select(Establishment.id).where(Establishment.uai == search.establishment_uai.upper())))
    if search.territory:
        conditions.append(territory_clause(session, search.territory))
    if search.campaign:
        conditions.append(ProcessInstance.campaign == search.campaign)
    return conditions


def _ordered(session: Session, principal: Principal, search: InstanceSearch,
             column=ProcessInstance.updated_at) -> Select:
    """The matching instances with their establishment, newest first by `column` (last change by default), the id
    breaking ties."""
    return (select(ProcessInstance, Establishment)
            .outerjoin(Establishment, Establishment.id == ProcessInstance.establishment_id)
            .where(*_conditions(session, principal, search))
            .order_by(column.desc(), ProcessInstance.id.desc()))


def instance_page(session: Session, principal: Principal, search: InstanceSearch, limit: int = LIST_LIMIT,
                  cursor: str | None = None, order: str = "updated") -> InstancePage:
    """One page of the instances the principal may see that match the filters, newest first by `order` (see
    `ORDERS`), starting after `cursor` (the first page without it), and their counts by status.

    Two statements whatever the page: the rows (one more than the page, to know whether another follows) and
    the counts in one GROUP BY. The id breaks ties of the order, so no row is shown twice nor skipped; by last
    change, a dossier that changes between two pages moves to the top of the list, where « Revenir au début »
    finds it.
    """
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise ValueError(f"limit {limit} hors de 1..{MAX_LIST_LIMIT}")
    column, tag = ORDERS[order], CURSOR_TAGS[order]
    query = _ordered(session, principal, search, column)
    if cursor is not None:
        moment, instance_id = decode_key(cursor, (f"={tag}", "date", "id"))[1:]
        query = query.where(or_(column < moment, and_(column == moment, ProcessInstance.id < instance_id)))
    rows = cast(list[InstanceRow], list(session.execute(query.limit(limit + 1)).all()))
    following = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        following = encode_key([tag, getattr(last, column.key), last.id])
    by_status = {status: count for status, count in session.execute(
        select(ProcessInstance.status, func.count()).where(*_conditions(session, principal, search, status=False))
        .group_by(ProcessInstance.status))}
    total = by_status.get(search.status, 0) if search.status else sum(by_status.values())
    return InstancePage(rows[:limit], following, limit, by_status, total)


def search_instances(session: Session, principal: Principal, search: InstanceSearch, page: int, per_page: int, *,
                     clamp: bool = True) -> Page[InstanceRow]:
    """One page by number (offset) of the instances `instance_page` lists, and their count.

    Kept for the API's deprecated `page` parameter (docs/api.md); pages read `instance_page`."""
    return paginate(session, _ordered(session, principal, search), page, per_page, clamp=clamp)


def territory_clause(session: Session, territory: str):
    """SQL condition on instances of a territory: a structure's code (its departments, or the whole country for
    Fnogec, and the trainings it organises) or a department number."""
    structure = session.scalar(select(Structure).where(func.upper(Structure.code) == territory.upper()))
    if structure is None:
        return ProcessInstance.department == territory.upper()
    if structure.kind == "fnogec":
        return ProcessInstance.id.is_not(None)
    return (ProcessInstance.department.in_(structure.departments)
            | (ProcessInstance.structure_code == structure.code))


def live_instance(session: Session, process_id: str, campaign: str, establishment_id: int | None,
                  structure_code: str | None) -> ProcessInstance | None:
    """The instance of a campaign process a subject (establishment or structure) already has for a campaign."""
    return session.scalar(select(ProcessInstance).where(
        ProcessInstance.process_id == process_id, ProcessInstance.campaign == campaign,
        ProcessInstance.establishment_id.is_(None) if establishment_id is None
        else ProcessInstance.establishment_id == establishment_id,
        ProcessInstance.structure_code.is_(None) if structure_code is None
        else ProcessInstance.structure_code == structure_code,
        ProcessInstance.status.in_(LIVE_STATUSES),
    ).order_by(ProcessInstance.id.desc()).limit(1))


def live_projects(session: Session, establishment_ids: Collection[int], campaigns: Collection[str],
                  process_id: str | None = None) -> dict[tuple[int, str], ProcessInstance]:
    """The hosting project of each establishment in each campaign, by (establishment id, school year), in one
    statement (`live_instance` for many).

    The hosting project is the catalogue's campaign process (`engine.runtime.catalogue`), unless `process_id`
    names another process.
    """
    if not establishment_ids or not campaigns:
        return {}
    process_id = process_id or current_catalogue(session).campaign_process_id
    if process_id is None:
        return {}
    found: dict[tuple[int, str], ProcessInstance] = {}
    for instance in session.scalars(select(ProcessInstance).where(
            ProcessInstance.establishment_id.in_(establishment_ids), ProcessInstance.process_id == process_id,
            ProcessInstance.campaign.in_(campaigns), ProcessInstance.status.in_(LIVE_STATUSES),
    ).order_by(ProcessInstance.id)):
        # The latest wins, as in `live_instance`.
        found[(instance.establishment_id or 0, instance.campaign or "")] = instance
    return found


def campaigns_of(session: Session, instance_ids: Collection[int]) -> dict[int, str | None]:
    """The campaign of each instance (trainings and missions are labelled with it), in one statement."""
    if not instance_ids:
        return {}
    rows = session.execute(select(ProcessInstance.id, ProcessInstance.campaign)
                           .where(ProcessInstance.id.in_(instance_ids)))
    return {instance_id: campaign for instance_id, campaign in rows}


def instances_of(session: Session, instance_ids: Collection[int]) -> list[ProcessInstance]:
    """Instances by id (the sessions of training a person takes part in), in one statement, oldest first."""
    if not instance_ids:
        return []
    return list(session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(instance_ids))
                                .order_by(ProcessInstance.id)))
