"""Campaigns compared: each campaign's funnel, from projects submitted to missions ended, and the previous campaign
at the same date.

Every stage is read from what the runtime already keeps, never from a
deserialised workflow: the task rows say when a project reached its review,
when its offer was to publish and was published, when a volunteer's file was
opened (the tuteur agreed to the candidate); the register of missions says
when a contract was confirmed and how each mission ended. One grouped
statement counts every stage of every campaign, by department and network,
twice: up to now, and up to the same calendar day one year earlier, so that
a campaign is compared with the previous one as it stood then. A gestionnaire's
figures only count their territory (`engine.access.instance_filter`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import DateTime, and_, case, cast, func, null, select, union_all
from sqlalchemy.orm import Session

from engine.access import Principal
from engine.campaign.campaigns import previous_school_year
from engine.models import Establishment, ProcessInstance, Structure, TaskRow, VolunteerMission
from engine.views import spreadsheets
from engine.views.monitoring_filters import Filters, Selection

STAGES = {
    "submitted": "Projets déposés",
    "accepted": "Projets acceptés",
    "published": "Offres publiées",
    "selected": "Volontaires retenus",
    "contracts": "Contrats signés",
    "completed": "Missions achevées",
    "ended_early": "Fins anticipées",
}
# Every state a task row takes (engine.runtime.tasks), named so that the index on state and step serves the lookup.
TASK_STATES = ("ready", "completed", "cancelled")


@dataclass
class FunnelLine:
    """A campaign's count at each stage for one group (the whole campaign, a territory, a network): up to now, and
    up to the comparison day one year earlier."""

    key: str
    label: str
    now: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    then: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))

    def add(self, stage: str, now: int, then: int) -> None:
        """Count a group of rows of the statement."""
        self.now[stage] += now
        self.then[stage] += then


@dataclass
class CampaignFunnel:
    """One campaign's funnel: the whole campaign, by territory (structures, then departments) and by network."""

    school_year: str
    phase: str | None
    total: FunnelLine
    territories: list[FunnelLine]
    networks: list[FunnelLine]


@dataclass
class Comparison:
    """A campaign today beside the previous one on the same calendar day a year earlier."""

    campaign: CampaignFunnel
    previous: CampaignFunnel

    def stages(self) -> list[tuple[str, str, int, int]]:
        """(stage, label, this campaign now, the previous one then) for every stage."""
        return [(stage, label, self.campaign.total.now[stage], self.previous.total.then[stage])
                for stage, label in STAGES.items()]


@dataclass
class Funnels:
    """The funnels of the campaigns in the data, the most recent first, and the comparisons the page shows."""

    today: date
    compared_on: date
    campaigns: list[CampaignFunnel]
    comparisons: list[Comparison]


def year_earlier(day: date) -> date:
    """The same calendar day a year earlier (28 February for a 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def campaign_funnels(session: Session, principal: Principal, filters: Filters, today: date,
                     phases: dict[str, str]) -> Funnels:
    """Every campaign's funnel of hosting projects within the principal's scope and the filters (but the status
    and version, which a funnel spans; the filters' process is the catalogue's campaign process, which the caller
    knows from the deployment it read); `phases` labels the campaigns in view (school year → « en cours »). With a
    campaign chosen, its funnel and the previous campaign's are counted."""
    selection = Selection(session, principal, filters)
    return funnels_of(session, selection, today, phases, list(session.scalars(select(Structure))))


def funnels_of(session: Session, selection: Selection, today: date, phases: dict[str, str],
               structures: list[Structure]) -> Funnels:
    """`campaign_funnels` for a selection of hosting projects, in one statement; `structures` are every structure
    (the dashboard has read them for its filters), of which the Udogec and Urogec sum their departments."""
    compared_on = year_earlier(today)
    groups = _stage_groups(session, selection, datetime.combine(compared_on + timedelta(days=1), time.min))
    rolled_up = _rolled_up(structures, selection.principal, selection.filters)
    by_campaign: dict[str, list[tuple[str, str | None, str | None, int, int]]] = {}
    for campaign, department, network, *counts in groups:
        for index, stage in enumerate(STAGES):
            by_campaign.setdefault(campaign, []).append((stage, department, network, counts[2 * index],
                                                         counts[2 * index + 1]))
    funnels = [_funnel(year, phases.get(year), rows, rolled_up)
               for year, rows in sorted(by_campaign.items(), reverse=True)]
    return Funnels(today, compared_on, funnels, _comparisons(funnels, selection.filters.campaign))


def _stage_groups(session: Session, selection: Selection, until: datetime) -> list:
    """(campaign, department, network, then for each stage its count up to now and before `until`) rows, in one
    statement.

    One pass over the task rows of the three steps that mark a stage, those of the selection's instances only, gives
    each project when it first reached its review, its offer to publish, the offer published, and each place when
    its volunteer's file was opened (the tuteur agreed); the register of missions gives each contract confirmed and
    each mission ended. A stage counts a project or a place once, however many times it went through the step."""
    spec, state = TaskRow.spec_id, TaskRow.state
    conditions = [*selection.scope, ProcessInstance.campaign.is_not(None)]
    chosen = selection.filters.campaign
    if chosen:
        conditions.append(ProcessInstance.campaign.in_((chosen, previous_school_year(chosen))))

    def first(condition, column):
        return func.min(case((condition, column)))

    nothing = cast(null(), DateTime)
    steps = (select(TaskRow.instance_id.label("instance_id"),
                    first(spec == "review_project", TaskRow.created_at).label("submitted"),
                    first(spec == "publish_offer", TaskRow.created_at).label("accepted"),
                    first(and_(spec == "publish_offer", state == "completed"), TaskRow.completed_at).label("published"),
                    first(spec == "volunteer_file", TaskRow.created_at).label("selected"),
                    nothing.label("contracts"), nothing.label("completed"), nothing.label("ended_early"))
             .join(ProcessInstance, ProcessInstance.id == TaskRow.instance_id)
             .where(state.in_(TASK_STATES), spec.in_(("review_project", "publish_offer", "volunteer_file")),
                    *conditions)
             # A project's steps in one group, each place's volunteer file in its own.
             .group_by(TaskRow.instance_id, case((spec == "volunteer_file", TaskRow.place))))
    missions = select(VolunteerMission.instance_id, nothing, nothing, nothing, nothing, VolunteerMission.created_at,
                      case((VolunteerMission.status == "completed", VolunteerMission.updated_at)),
                      case((VolunteerMission.status == "terminated", VolunteerMission.updated_at)))
    reached = union_all(steps, missions).subquery("reached")
    counts = []
    for stage in STAGES:
        column = reached.c[stage]
        counts += [func.count(column), func.count(case((column < until, 1)))]
    keys = (ProcessInstance.campaign, ProcessInstance.department, Establishment.network)
    return list(session.execute(
        select(*keys, *counts).select_from(reached).join(ProcessInstance, ProcessInstance.id == reached.c.instance_id)
        .outerjoin(Establishment, Establishment.id == ProcessInstance.establishment_id)
        .where(*conditions).group_by(*keys)))


def _rolled_up(structures: list[Structure], principal: Principal, filters: Filters) -> list[Structure]:
    """The Udogec and Urogec whose whole territory the figures cover: all of them for national users without a
    territory filter, those within a gestionnaire's departments; none under a territory filter."""
    if filters.territory:
        return []
    kept = sorted((s for s in structures if s.kind in ("urogec", "udogec") and s.departments),
                  key=lambda s: (s.kind != "urogec", s.code))
    if principal.process_owner or principal.national:
        return kept
    return [s for s in kept if set(s.departments) <= set(principal.departments)]


def _funnel(school_year: str, phase: str | None, rows: list, structures: list[Structure]) -> CampaignFunnel:
    total = FunnelLine("", "Ensemble")
    departments: dict[str, FunnelLine] = {}
    networks: dict[str, FunnelLine] = {}
    for stage, department, network, now, then in rows:
        total.add(stage, now, then)
        key = department or "—"
        departments.setdefault(key, FunnelLine(key, f"Département {key}" if department else "—")).add(stage, now,
                                                                                                     then)
        networks.setdefault(network or "—", FunnelLine(network or "—", network or "—")).add(stage, now, then)
    rolled = []
    for structure in structures:
        covered = [departments[d] for d in structure.departments if d in departments]
        if covered:
            line = FunnelLine(structure.code, structure.name)
            for part in covered:
                for stage in STAGES:
                    line.add(stage, part.now[stage], part.then[stage])
            rolled.append(line)
    return CampaignFunnel(school_year, phase, total, rolled + [departments[k] for k in sorted(departments)],
                          [networks[k] for k in sorted(networks)])


def _comparisons(funnels: list[CampaignFunnel], chosen: str | None) -> list[Comparison]:
    """Each campaign compared: the chosen one, else those in view (else the latest), beside the previous one."""
    found = {funnel.school_year: funnel for funnel in funnels}
    if chosen:
        compared = [found[chosen]] if chosen in found else []
    else:
        compared = [funnel for funnel in funnels if funnel.phase] or funnels[:1]
    comparisons = []
    for funnel in compared:
        previous_year = previous_school_year(funnel.school_year)
        previous = found.get(previous_year) or CampaignFunnel(previous_year, None, FunnelLine("", "Ensemble"), [], [])
        comparisons.append(Comparison(funnel, previous))
    return comparisons


EXPORT_HEADERS = ["Campagne", "Situation", "Compté au", "Regroupement", "Territoire ou réseau", *STAGES.values()]


def export_rows(funnels: Funnels) -> list[list]:
    """The exported lines: every campaign's funnel today (whole, by territory, by network), then each previous
    campaign as it stood a year earlier, in the order of `EXPORT_HEADERS` (dates as dates)."""
    lines = []

    def emit(funnel: CampaignFunnel, counted_on: date, attribute: str) -> None:
        for grouping, items in (("Ensemble", [funnel.total]), ("Territoire", funnel.territories),
                                ("Réseau", funnel.networks)):
            for line in items:
                counts = getattr(line, attribute)
                lines.append([funnel.school_year, funnel.phase or "", counted_on, grouping,
                              spreadsheets.spreadsheet_text(line.label if grouping != "Ensemble" else ""),
                              *(counts[stage] for stage in STAGES)])

    for funnel in funnels.campaigns:
        emit(funnel, funnels.today, "now")
    for comparison in funnels.comparisons:
        emit(comparison.previous, funnels.compared_on, "then")
    return lines


def funnel_csv(funnels: Funnels) -> str:
    """The CSV export of the funnels."""
    return "".join(spreadsheets.csv_lines(EXPORT_HEADERS, export_rows(funnels)))


def funnel_xlsx(funnels: Funnels) -> bytes:
    """The XLSX export of the funnels."""
    return spreadsheets.xlsx_bytes("Campagnes", EXPORT_HEADERS, [11, 15, 12, 13, 32, *[13] * len(STAGES)],
                                   export_rows(funnels))
