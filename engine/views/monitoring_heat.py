"""The heat map's figures: what waits at each element of a version, from the same aggregate queries."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.access import Principal
from engine.models import ProcessInstance, Timer
from engine.views.diagrams import NodeHeat
from engine.views.monitoring import Filters, instance_conditions, step_waits, wait_short


def node_heat(session: Session, principal: Principal, filters: Filters,
              now: datetime) -> dict[tuple[str, str], NodeHeat]:
    """What waits at each element: user tasks by (process, element), incidents, and timers (by element only,
    under the process key "*")."""
    heat: dict[tuple[str, str], NodeHeat] = {}
    for step in step_waits(session, principal, filters, now):
        if step.waiting:
            heat[(step.process_id, step.spec_id)] = NodeHeat(
                waiting=step.waiting, median_wait=wait_short(step.median, now),
                oldest_wait=wait_short(step.oldest, now), overdue=step.overdue)
    conditions = instance_conditions(session, principal, filters)
    incidents = session.execute(select(ProcessInstance.incident_node, func.count())
                                .where(*conditions, ProcessInstance.status == "incident",
                                       ProcessInstance.incident_node.is_not(None))
                                .group_by(ProcessInstance.incident_node))
    for node, count in incidents:
        if node is None:  # excluded by the query; its column is nullable
            continue
        process_id, _, element = node.partition(":")
        heat.setdefault((process_id, element), NodeHeat()).incidents = count
    timers = session.execute(select(Timer.spec_id, func.count())
                             .join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                             .where(*conditions).group_by(Timer.spec_id))
    for element, count in timers:
        heat.setdefault(("*", element), NodeHeat()).timers = count
    return heat
