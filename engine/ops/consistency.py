"""Checking that the database tells one story: engine states, the task table and the audit trail agree.

Run after a crash, a restore or a migration (`flask --app webapp db check`),
and by the crash tests. Nothing is changed: problems are reported, in French,
for someone to look at. The one kind a command repairs (`flask --app webapp db
repair`) is a loop or multi-instance task waiting on instances that ended.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from engine.models import AuditEvent, InstanceState, ProcessInstance, TaskRow
from engine.progress import Progress, ProgressCounter
from engine.runtime.deployment import bundle_for
from engine.runtime.spiff_internals import loop_name, unmerged_instances
from engine.runtime.tasks import instance_status
from handlers.formats import plural

TASK_STATES = {"ready", "completed", "cancelled"}


@dataclass(frozen=True)
class Problem:
    """One disagreement found, on an instance and possibly one of its tasks."""

    instance_id: int | None
    task_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"dossier {self.instance_id}" if self.instance_id is not None else "base"
        return f"{where}{f', tâche {self.task_id}' if self.task_id else ''} : {self.message}"


@dataclass
class ConsistencyReport:
    """How many instances were read, and what disagrees."""

    instances: int = 0
    tasks: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing disagrees."""
        return not self.problems


def check_consistency(session: Session, batch: int = 100, progress: Progress | None = None) -> ConsistencyReport:
    """Check every instance and task of the database; read only; `progress` hears how many dossiers are read.

    - every instance's engine state deserialises, and its status is the one the state implies;
    - the ready rows of the task table are exactly the engine's ready user tasks;
    - every completed task has exactly one completion audit event, and every completion event a completed task;
    - no loop or multi-instance task waits on an instance that already ended (`flask --app webapp db repair`).
    """
    report = ConsistencyReport()
    ready_rows: dict[int, set[str]] = defaultdict(set)
    completed_rows: dict[str, int] = {}
    for task_id, instance_id, state in session.execute(select(TaskRow.id, TaskRow.instance_id, TaskRow.state)):
        report.tasks += 1
        if state == "ready":
            ready_rows[instance_id].add(task_id)
        elif state == "completed":
            completed_rows[task_id] = instance_id
        elif state not in TASK_STATES:
            report.problems.append(Problem(instance_id, task_id, f"état de tâche inconnu « {state} »"))
    for instance, workflow in stored_workflows(session, batch=batch, progress=progress):
        report.instances += 1
        report.problems.extend(_check_instance(instance, workflow, ready_rows.pop(instance.id, set())))
    report.problems.extend(_check_audit(session, completed_rows))
    return report


def stored_workflows(session: Session, *criteria: Any, batch: int = 100, progress: Progress | None = None
                     ) -> Iterator[tuple[ProcessInstance, BpmnWorkflow | Exception]]:
    """Each instance (matching `criteria`), in id order, with its workflow restored from the stored state, or the
    error that prevented it; read `batch` instances at a time, each let go of once the caller is done with it.

    Restoring takes about a millisecond a dossier: at national scale the walk lasts a minute, which `progress`
    hears of as `engine.progress.ProgressCounter` tells it.
    """
    total = (session.scalar(select(func.count()).select_from(ProcessInstance).where(*criteria)) or 0) if progress else 0
    counter = ProgressCounter(progress, total)
    instances = session.scalars(
        select(ProcessInstance).where(*criteria)
        .options(selectinload(ProcessInstance.engine_state).selectinload(InstanceState.changes))
        .order_by(ProcessInstance.id)
        .execution_options(yield_per=batch)
    )
    for instance in instances:
        try:
            workflow: BpmnWorkflow | Exception = (bundle_for(instance.deployment).serializers[instance.process_id]
                                                  .loads(instance.state))
        except Exception as error:  # any failure to read the state is for the caller to report
            workflow = error
        yield instance, workflow
        session.expunge(instance)
        counter.advance()


def waiting_for_nothing(workflow: BpmnWorkflow) -> list[str]:
    """What a workflow waits on for nothing, in French: per loop task, the ended instances it never merged."""
    ended: defaultdict[str, int] = defaultdict(int)
    for child in unmerged_instances(workflow):
        ended[loop_name(child)] += 1
    return [f"{plural(count, 'parcours terminé', 'parcours terminés')} jamais rattaché{'s' if count > 1 else ''} "
            f"à « {loop} » : le dossier attend sans raison" for loop, count in sorted(ended.items())]


def _check_instance(instance: ProcessInstance, workflow: BpmnWorkflow | Exception,
                    ready_rows: set[str]) -> list[Problem]:
    if isinstance(workflow, Exception):
        return [Problem(instance.id, None, f"état du moteur illisible ({type(workflow).__name__} : {workflow})")]
    problems = []
    engine_ready = {str(task.id) for task in workflow.get_tasks(state=TaskState.READY, manual=True)}
    for task_id in sorted(engine_ready - ready_rows):
        problems.append(Problem(instance.id, task_id, "tâche prête dans le moteur mais absente de la table des tâches"))
    for task_id in sorted(ready_rows - engine_ready):
        problems.append(Problem(instance.id, task_id, "tâche prête dans la table mais pas dans le moteur"))
    for waiting in waiting_for_nothing(workflow):
        problems.append(Problem(instance.id, None, f"{waiting} (flask --app webapp db repair)"))
    status, outcome = instance_status(workflow, instance.incident)
    # A suspension is a decision of a process owner, not something the engine state shows: a suspended
    # instance is consistent when its state is that of a live (running or incident) instance.
    recorded = status if instance.status == "suspended" and status in ("running", "incident") else instance.status
    if (status, outcome) != (recorded, instance.outcome):
        problems.append(Problem(instance.id, None, f"statut enregistré « {instance.status} » "
                                                   f"mais l'état du moteur donne « {status} »"))
    return problems


def _check_audit(session: Session, completed_rows: dict[str, int]) -> list[Problem]:
    events = {task_id: count for task_id, count in session.execute(
        select(AuditEvent.task_id, func.count()).where(AuditEvent.kind == "completed", AuditEvent.task_id.is_not(None))
        .group_by(AuditEvent.task_id)
    ) if task_id is not None}
    problems = []
    for task_id, instance_id in sorted(completed_rows.items()):
        count = events.pop(task_id, 0)
        if count != 1:
            problems.append(Problem(instance_id, task_id,
                                    f"tâche accomplie avec {count} événements d'audit au lieu d'un"))
    if events:
        owners = dict(session.execute(select(AuditEvent.task_id, AuditEvent.instance_id)
                                      .where(AuditEvent.task_id.in_(list(events)))).all())
        for task_id in sorted(events):
            problems.append(Problem(owners.get(task_id), task_id, "événement d'accomplissement sans tâche accomplie"))
    return problems
