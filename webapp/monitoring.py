"""Monitoring: the dashboard of a process version, its exports, the campaigns compared, its heat map, and migrating
instances."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_login import login_required
from sqlalchemy import select

from engine.access import require_monitor, require_process_owner
from engine.campaign.campaigns import all_campaigns, phase_labels
from engine.models import Deployment, ProcessInstance
from engine.models.runtime import INSTANCE_STATUSES
from engine.runtime.deployment import bundle_for
from engine.views import monitoring
from engine.views.diagrams import heat_views
from engine.views.funnel import STAGES, campaign_funnels, funnel_csv, funnel_xlsx
from engine.views.monitoring import Filters
from engine.views.monitoring_heat import node_heat
from engine.views.monitoring_list import all_instances, csv_lines, xlsx_bytes
from engine.views.monitoring_page import dashboard_figures, filter_choices
from handlers.formats import plural
from webapp.auth import principal
from webapp.charts import funnel_chart, weekly_chart
from webapp.database import db_session
from webapp.formatting import structure_names_known
from webapp.operations import operations_runtime
from webapp.paging import PAGE_SIZE, requested_page
from webapp.vendor import viewer_available

bp = Blueprint("monitoring", __name__, url_prefix="/suivi")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _campaign_process(deployments: list[Deployment]) -> str:
    """The campaign process (the hosting project) of the latest version, from its catalogue; empty without one."""
    return (bundle_for(deployments[0]).catalogue.campaign_process_id or "") if deployments else ""


def _filters() -> tuple[Filters, list[str], dict[str, str], list[Deployment]]:
    """The filters of the request, the messages of those ignored, the processes to choose from, and every
    deployed version (newest first)."""
    session = db_session()
    deployments = monitoring.versions(session)
    processes = monitoring.monitored_processes(session, deployments)
    # The dashboard opens on the campaign process of the latest version (the hosting project), else the first.
    campaign_process = _campaign_process(deployments)
    default = campaign_process if campaign_process in processes else next(iter(processes), "")
    filters, errors = monitoring.parse_filters(request.args, default)
    if filters.process_id not in processes:
        errors.append(f"Processus « {filters.process_id[:60]} » inconnu : « {processes.get(default, default)} » "
                      "est affiché.")
        filters.process_id = default
    return filters, errors, processes, deployments


@bp.route("/")
@login_required
def dashboard():
    """The dashboard of a process (all versions, or one): counts, waits, delays, breakdowns, throughput, list."""
    require_monitor(principal())
    session = db_session()
    me = principal()
    filters, errors, processes, deployments = _filters()
    now = datetime.now()
    board = dashboard_figures(session, me, filters, deployments, now, requested_page(), PAGE_SIZE)
    structure_names_known(board.structures)
    newer = [d for d in deployments if filters.process_id in d.process_ids]
    return render_template(
        "monitoring/dashboard.html", filters=filters, errors=errors, processes=processes,
        choices=filter_choices(session, me, filters, deployments, now.date(), board.version_counts, board.campaigns,
                               board.structures),
        phases=board.phases, funnels=board.funnels, stages=STAGES,
        funnel_charts=[funnel_chart(c) for c in board.funnels.comparisons] if board.funnels else [],
        counts=board.counts, steps=board.steps, overdue=board.overdue, overdue_total=board.overdue_total,
        territories=board.territories, networks=board.networks, chart=weekly_chart(board.weeks),
        page=board.page, now=now, wait_fr=monitoring.wait_fr,
        statuses=INSTANCE_STATUSES, migration_targets=newer if me.process_owner else [],
        process_labels=_process_labels(newer),
    )


def _process_labels(versions: list[Deployment]) -> dict[str, str]:
    """Labels of every process (called ones included) of the latest version holding the chosen process."""
    if not versions:
        return {}
    bundle = bundle_for(versions[0])
    labels = {name: spec.description or name for specs in bundle.subprocess_specs.values()
              for name, spec in specs.items()}
    return {**labels, **{process_id: bundle.process_name(process_id) for process_id in bundle.specs}}


def _export_name(filters: Filters, extension: str) -> str:
    return f"dossiers-{filters.process_id}-{date.today().isoformat()}.{extension}"


@bp.route("/export.csv")
@login_required
def export_csv():
    """The filtered list as CSV (UTF-8, `;`), streamed."""
    require_monitor(principal())
    filters, _errors, processes, _deployments = _filters()
    lines = csv_lines(all_instances(db_session(), principal(), filters), processes[filters.process_id])
    return Response(stream_with_context(lines), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{_export_name(filters, "csv")}"'})


@bp.route("/export.xlsx")
@login_required
def export_xlsx():
    """The filtered list as an Excel workbook."""
    require_monitor(principal())
    filters, _errors, processes, _deployments = _filters()
    content = xlsx_bytes(all_instances(db_session(), principal(), filters), processes[filters.process_id])
    return Response(content, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{_export_name(filters, "xlsx")}"'})


def _funnels():
    """The campaigns' funnels for the request's filters (the process is always that of hosting projects)."""
    session = db_session()
    filters, _errors, _processes, deployments = _filters()
    today = date.today()
    return campaign_funnels(session, principal(), replace(filters, process_id=_campaign_process(deployments)), today,
                            phase_labels(all_campaigns(session), today))


@bp.route("/campagnes.csv")
@login_required
def export_funnels_csv():
    """The campaigns' funnels as CSV (UTF-8, `;`): today, and the previous campaigns a year earlier."""
    require_monitor(principal())
    return Response(funnel_csv(_funnels()), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="campagnes-{date.today().isoformat()}.csv"'})


@bp.route("/campagnes.xlsx")
@login_required
def export_funnels_xlsx():
    """The campaigns' funnels as an Excel workbook."""
    require_monitor(principal())
    return Response(funnel_xlsx(_funnels()), mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="campagnes-{date.today().isoformat()}.xlsx"'})


@bp.route("/carte")
@login_required
def heat_map():
    """The heat map of one version of a process: what waits at each element, and for how long."""
    require_monitor(principal())
    session = db_session()
    filters, errors, processes, deployments = _filters()
    deployment = next((d for d in deployments if d.id == filters.version), None)
    if deployment is None or filters.process_id not in deployment.process_ids:
        deployment = next((d for d in deployments if filters.process_id in d.process_ids), None)
    if deployment is None:
        abort(404)
    filters.version = deployment.id
    bundle = bundle_for(deployment)
    views = heat_views(bundle.files, filters.process_id, {p: bundle.process_name(p) for p in bundle.specs},
                       node_heat(session, principal(), filters, datetime.now()))
    return render_template("monitoring/heat_map.html", filters=filters, errors=errors, processes=processes,
                           choices=filter_choices(session, principal(), filters, deployments, date.today()),
                           deployment=deployment, views=views, viewer=viewer_available())


@bp.route("/migration", methods=("POST",))
@login_required
def migrate():
    """Move the selected instances to a newer version; say for each one whether it moved, or why not."""
    require_process_owner(principal())
    session = db_session()
    target = session.get(Deployment, request.form.get("version", type=int) or 0)
    ids = sorted({int(v) for v in request.form.getlist("dossier") if v.isascii() and v.isdigit() and len(v) < 10})
    if target is None or not ids:
        message = ("Choisissez la version vers laquelle migrer." if target is None
                   else "Cochez au moins un dossier à migrer.")
        return render_template("monitoring/migration.html", outcomes=[], target=target, error=message), 422
    runtime = operations_runtime()
    outcomes = []
    for instance in session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(ids))
                                    .order_by(ProcessInstance.id)):
        outcomes.append(runtime.migrate(instance, principal(), target))
    missing = len(ids) - len(outcomes)
    error = plural(missing, "dossier introuvable", "dossiers introuvables") + "." if missing else None
    return render_template("monitoring/migration.html", outcomes=outcomes, target=target, error=error)
