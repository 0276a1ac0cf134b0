"""What a dashboard request looks at: its filters, read from the query string, and their SQL conditions."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, exists, select
from sqlalchemy.orm import Session, aliased

from engine.access import Principal, instance_filter
from engine.models import Establishment, ProcessInstance, TaskRow
from engine.models.runtime import INSTANCE_STATUSES
from engine.views.queries import territory_clause

NETWORKS = ("SGEC", "CNEAP")
SCHOOL_YEAR = re.compile(r"^[0-9]{4}-[0-9]{4}$")


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
    campaign: str | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as query parameters, to rebuild links and exports."""
        values = {"processus": self.process_id, "version": self.version, "territoire": self.territory,
                  "reseau": self.network, "etablissement": self.establishment_uai, "etape": self.step,
                  "statut": self.status, "du": self.started_from, "au": self.started_to, "campagne": self.campaign}
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
    filters.campaign = text("campagne", 9)
    if filters.campaign is not None and not SCHOOL_YEAR.match(filters.campaign):
        errors.append(f"Campagne « {filters.campaign} » illisible (attendu : 2026-2027) : filtre ignoré.")
        filters.campaign = None
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


def instance_conditions(session: Session, principal: Principal, filters: Filters, with_status: bool = True,
                        with_version: bool = True, with_campaign: bool = True) -> list:
    """SQL conditions on `process_instance` for the principal's scope and the filters."""
    conditions = [instance_filter(principal), ProcessInstance.process_id == filters.process_id]
    if with_campaign:
        conditions += _campaign(filters)
    if filters.territory:
        conditions.append(territory_clause(session, filters.territory))
    if filters.network:
        conditions.append(ProcessInstance.establishment_id.in_(
            select(Establishment.id).where(Establishment.network == filters.network)))
    if filters.establishment_uai:
        conditions.append(ProcessInstance.establishment_id.in_(
            select(Establishment.id).where(Establishment.uai == filters.establishment_uai)))
    if filters.step:
        # A name of its own: these conditions also go inside queries on the task table. The step is tested
        # in a CASE so that only the index on instance and state can serve the lookup: lacking statistics,
        # PostgreSQL would otherwise combine the index on state and step, and read all of it per instance.
        waiting = aliased(TaskRow, name="waiting_task")
        conditions.append(exists().where(waiting.instance_id == ProcessInstance.id, waiting.state == "ready",
                                         case((waiting.spec_id == filters.step, True), else_=False)))
    if filters.started_from:
        conditions.append(ProcessInstance.created_at >= datetime.combine(filters.started_from, time.min))
    if filters.started_to:
        conditions.append(ProcessInstance.created_at < datetime.combine(filters.started_to + timedelta(days=1),
                                                                         time.min))
    return conditions + _version_and_status(filters, with_status, with_version)


def _campaign(filters: Filters) -> list:
    return [ProcessInstance.campaign == filters.campaign] if filters.campaign else []


def _version_and_status(filters: Filters, with_status: bool = True, with_version: bool = True) -> list:
    conditions = []
    if with_version and filters.version is not None:
        conditions.append(ProcessInstance.deployment_id == filters.version)
    if with_status and filters.status:
        conditions.append(ProcessInstance.status == filters.status)
    return conditions


class Selection:
    """The SQL conditions of one dashboard request, built once: on instances, and on the tasks waiting in them."""

    def __init__(self, session: Session, principal: Principal, filters: Filters):
        self.principal = principal
        self.filters = filters
        # Without the campaign filter: the campaigns' funnels show the chosen campaign beside the previous one.
        self.scope = instance_conditions(session, principal, filters, with_status=False, with_version=False,
                                         with_campaign=False)
        # Without the version and status filters: the status counters ignore the latter, and the page's
        # grouped count of instances applies both itself.
        self.counted = [*self.scope, *_campaign(filters)]
        self.instances = [*self.counted, *_version_and_status(filters)]
        # Each waiting task reads its instance by primary key and tests the conditions on that row. They sit in
        # the select list, not the WHERE clause, so that no other index of the instances can serve the lookup:
        # lacking statistics, PostgreSQL would pick one and scan all its entries for every task.
        kept = (select(case((and_(*self.instances), 1))).where(ProcessInstance.id == TaskRow.instance_id)
                .correlate(TaskRow).scalar_subquery())
        self.tasks = [TaskRow.state == "ready", kept == 1]

    @property
    def narrowed(self) -> bool:
        """Whether a filter other than the version and the status narrows the instances."""
        f = self.filters
        return any((f.territory, f.network, f.establishment_uai, f.step, f.started_from, f.started_to, f.campaign))
