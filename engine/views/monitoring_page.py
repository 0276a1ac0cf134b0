"""The whole dashboard page (/suivi/) in a fixed handful of statements, whatever the number of instances.

Each figure of `engine.views.monitoring` is also a function of its own (the heat map
and the tests call them); the page shares the work instead: the conditions are
built once (`Selection`), one grouped pass over the instances gives the status
counters, both breakdowns, the list's total and, without other filters, the
count per version; the overdue total is the sum of the steps' overdue counts;
the deployed versions, the campaigns and the structures are read once; the
campaigns' funnels take one grouped statement more (`engine.views.funnel`).
About fifteen statements in all (see tests/test_monitoring_queries.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Principal
from engine.campaign.campaigns import all_campaigns, phase_labels
from engine.models import Campaign, Deployment, ProcessInstance, Structure
from engine.models.runtime import INSTANCE_STATUSES
from engine.runtime.deployment import bundle_for
from engine.views.funnel import Funnels, funnels_of
from engine.views.monitoring import (
    NETWORKS,
    Breakdown,
    Filters,
    OverdueTask,
    Selection,
    StepWait,
    Week,
    instance_summary,
    most_overdue,
    throughput,
    user_steps,
    version_counts,
    waits_by_step,
)
from engine.views.monitoring_list import ListedInstance, listed_page
from engine.views.pages import Page


@dataclass
class Dashboard:
    """Every figure of the dashboard page."""

    counts: dict[str, int]
    steps: list[StepWait]
    overdue: list[OverdueTask]
    overdue_total: int
    territories: list[Breakdown]
    networks: list[Breakdown]
    weeks: list[Week]
    page: Page[ListedInstance]
    version_counts: dict[int, int]
    campaigns: list[Campaign]
    structures: list[Structure]
    # School year → « en cours » or « en préparation », for the campaigns in view.
    phases: dict[str, str]
    # Only for hosting projects, whose funnel it is.
    funnels: Funnels | None


def dashboard_figures(session: Session, principal: Principal, filters: Filters, deployments: list[Deployment],
                      now: datetime, page: int, per_page: int) -> Dashboard:
    """The figures of the page for a principal and filters; `deployments` is every version, newest first.
    A page number out of range is brought back within the list's pages."""
    selection = Selection(session, principal, filters)
    summary = instance_summary(session, selection)
    steps = waits_by_step(session, selection, now, _shown_version(filters, deployments))
    overdue_total = sum(step.overdue for step in steps)
    campaigns = all_campaigns(session)
    phases = phase_labels(campaigns, now.date())
    structures = all_structures(session)
    return Dashboard(
        counts=summary.status_counts(), steps=steps,
        overdue=most_overdue(session, selection, now), overdue_total=overdue_total,
        territories=summary.breakdown("territory"), networks=summary.breakdown("network"),
        weeks=throughput(session, selection, filters.started_to or now.date()),
        # The grouped pass above counted the list: the page needs no count of its own.
        page=listed_page(session, selection, page, per_page, summary.total),
        version_counts=(version_counts(session, principal, filters.process_id) if selection.narrowed
                        else summary.version_counts()),
        campaigns=campaigns, structures=structures, phases=phases,
        funnels=(funnels_of(session, selection, now.date(), phases, structures)
                 if filters.process_id == _campaign_process_id(deployments) else None))


def _campaign_process_id(deployments: list[Deployment]) -> str | None:
    """The campaign process of the newest version (the one new instances start on), read from its catalogue."""
    return bundle_for(deployments[0]).catalogue.campaign_process_id if deployments else None


def _shown_version(filters: Filters, deployments: list[Deployment]) -> Deployment | None:
    """The version whose steps are listed: the chosen one, or the latest holding the process."""
    if filters.version is not None:
        return next((d for d in deployments if d.id == filters.version), None)
    return next((d for d in deployments if filters.process_id in d.process_ids), None)


def filter_choices(session: Session, principal: Principal, filters: Filters, deployments: list[Deployment],
                   today: date, counts: dict[int, int] | None = None, campaigns: list[Campaign] | None = None,
                   structures: list[Structure] | None = None) -> dict:
    """What the filter form offers: versions of the process (with their instance counts), campaigns (those in view
    labelled), territories, steps, networks, statuses; counts, campaigns and structures are read unless given."""
    if counts is None:
        counts = version_counts(session, principal, filters.process_id)
    if campaigns is None:
        campaigns = all_campaigns(session)
    if structures is None:
        structures = all_structures(session)
    phases = phase_labels(campaigns, today)
    campaign_choices = [(c.school_year, f"{c.school_year} ({phases[c.school_year]})" if c.school_year in phases
                         else c.school_year) for c in campaigns]
    versions = [(d, counts.get(d.id, 0)) for d in deployments if filters.process_id in d.process_ids]
    departments = sorted(d for d in session.scalars(select(ProcessInstance.department).distinct()
                                                    .where(ProcessInstance.department.is_not(None))) if d is not None)
    if not (principal.process_owner or principal.national):
        departments = [d for d in departments if d in principal.departments]
        structures = [s for s in structures if s.code in principal.structures]
    steps = []
    deployment = _shown_version(filters, deployments)
    if deployment is not None and filters.process_id in deployment.process_ids:
        steps = [(spec_id, title) for _, spec_id, title, _ in user_steps(bundle_for(deployment), filters.process_id)]
    return {"versions": versions, "departments": departments, "structures": structures, "steps": steps,
            "networks": NETWORKS, "statuses": INSTANCE_STATUSES, "campaigns": campaign_choices}


def all_structures(session: Session) -> list[Structure]:
    """Every structure, by kind and code (there are a few dozen)."""
    return list(session.scalars(select(Structure).order_by(Structure.kind, Structure.code)))
