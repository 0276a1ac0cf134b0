"""Monitoring: the dashboard of a process version, its exports, its heat map, and migrating instances."""
from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_login import login_required
from sqlalchemy import select

from engine import monitoring
from engine.access import require_monitor, require_process_owner
from engine.deployment import bundle_for
from engine.diagrams import heat_views
from engine.models import Deployment, ProcessInstance, Structure
from engine.models.runtime import INSTANCE_STATUSES
from engine.monitoring import Filters
from engine.monitoring_heat import node_heat
from engine.monitoring_list import all_instances, csv_lines, instance_page, xlsx_bytes
from webapp.auth import principal
from webapp.charts import weekly_chart
from webapp.database import db_session
from webapp.operations import operations_runtime
from webapp.vendor import viewer_available

bp = Blueprint("monitoring", __name__, url_prefix="/suivi")
PAGE_SIZE = 50
DEFAULT_PROCESS = "hosting_project"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters() -> tuple[Filters, list[str], dict[str, str]]:
    """The filters of the request, the messages of those ignored, and the processes to choose from."""
    session = db_session()
    processes = monitoring.monitored_processes(session)
    default = DEFAULT_PROCESS if DEFAULT_PROCESS in processes else next(iter(processes), DEFAULT_PROCESS)
    filters, errors = monitoring.parse_filters(request.args, default)
    if filters.process_id not in processes:
        errors.append(f"Processus « {filters.process_id[:60]} » inconnu : « {processes.get(default, default)} » "
                      "est affiché.")
        filters.process_id = default
    return filters, errors, processes


def _choices(filters: Filters) -> dict:
    """What the filter form offers: versions of the process, territories, steps, networks, statuses."""
    session = db_session()
    me = principal()
    counts = monitoring.version_counts(session, me, filters.process_id)
    versions = [(d, counts.get(d.id, 0)) for d in monitoring.versions(session) if filters.process_id in d.process_ids]
    departments = sorted({d for (d,) in session.execute(
        select(ProcessInstance.department).distinct().where(ProcessInstance.department.is_not(None)))})
    if not (me.process_owner or me.national):
        departments = [d for d in departments if d in me.departments]
    structures = list(session.scalars(select(Structure).order_by(Structure.kind, Structure.code)))
    if not (me.process_owner or me.national):
        structures = [s for s in structures if s.code in me.structures]
    steps = []
    deployment = session.get(Deployment, filters.version) if filters.version else next((d for d, _ in versions), None)
    if deployment is not None and filters.process_id in deployment.process_ids:
        steps = [(spec_id, title) for _, spec_id, title, _ in monitoring.user_steps(bundle_for(deployment),
                                                                                    filters.process_id)]
    return {"versions": versions, "departments": departments, "structures": structures, "steps": steps,
            "networks": monitoring.NETWORKS, "statuses": INSTANCE_STATUSES}


@bp.route("/")
@login_required
def dashboard():
    """The dashboard of a process (all versions, or one): counts, waits, delays, breakdowns, throughput, list."""
    require_monitor(principal())
    session = db_session()
    me = principal()
    filters, errors, processes = _filters()
    now = datetime.now()
    page = max(request.args.get("page", 1, type=int), 1)
    rows, total = instance_page(session, me, filters, page, PAGE_SIZE)
    overdue, overdue_total = monitoring.overdue_tasks(session, me, filters, now)
    until = filters.started_to or date.today()
    newer = [d for d in monitoring.versions(session) if filters.process_id in d.process_ids]
    return render_template(
        "monitoring/dashboard.html", filters=filters, errors=errors, processes=processes, choices=_choices(filters),
        counts=monitoring.status_counts(session, me, filters), steps=monitoring.step_waits(session, me, filters, now),
        overdue=overdue, overdue_total=overdue_total,
        territories=monitoring.breakdown(session, me, filters, "territory"),
        networks=monitoring.breakdown(session, me, filters, "network"),
        chart=weekly_chart(monitoring.weekly_throughput(session, me, filters, until)),
        rows=rows, total=total, page=page, page_size=PAGE_SIZE, now=now, wait_fr=monitoring.wait_fr,
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
    filters, _errors, processes = _filters()
    lines = csv_lines(all_instances(db_session(), principal(), filters), processes[filters.process_id])
    return Response(stream_with_context(lines), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{_export_name(filters, "csv")}"'})


@bp.route("/export.xlsx")
@login_required
def export_xlsx():
    """The filtered list as an Excel workbook."""
    require_monitor(principal())
    filters, _errors, processes = _filters()
    content = xlsx_bytes(all_instances(db_session(), principal(), filters), processes[filters.process_id])
    return Response(content, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{_export_name(filters, "xlsx")}"'})


@bp.route("/carte")
@login_required
def heat_map():
    """The heat map of one version of a process: what waits at each element, and for how long."""
    require_monitor(principal())
    session = db_session()
    filters, errors, processes = _filters()
    deployment = session.get(Deployment, filters.version) if filters.version else None
    if deployment is None or filters.process_id not in deployment.process_ids:
        deployment = next((d for d in monitoring.versions(session) if filters.process_id in d.process_ids), None)
    if deployment is None:
        abort(404)
    filters.version = deployment.id
    bundle = bundle_for(deployment)
    views = heat_views(bundle.files, filters.process_id, {p: bundle.process_name(p) for p in bundle.specs},
                       node_heat(session, principal(), filters, datetime.now()))
    return render_template("monitoring/heat_map.html", filters=filters, errors=errors, processes=processes,
                           choices=_choices(filters), deployment=deployment, views=views,
                           viewer=viewer_available())


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
    plural = "s" if missing > 1 else ""
    error = f"{missing} dossier{plural} introuvable{plural}." if missing else None
    return render_template("monitoring/migration.html", outcomes=outcomes, target=target, error=error)
