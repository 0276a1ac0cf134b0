"""Moving running instances to a newer deployed version of their process, when the change allows it.

An instance may move when every task it waits on (ready, waiting on a timer
or a message, running a call activity, or failed in an incident) still exists
in the new version with the same id and the same kind, in the same process.
Its history is kept: tasks already done whose step was removed are taken out
of the engine's tree (the audit events keep what was done), predictions are
redrawn from the new diagram. The new state is read back before it is saved:
nothing half-migrated is ever written.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.models import Deployment, ProcessInstance
from engine.models.runtime import FINISHED_STATUSES
from engine.runtime import spiff_internals
from engine.runtime.deployment import ProcessBundle

# What an instance "waits on": tasks holding a token, as opposed to done or merely predicted ones.
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
FINISHED = TaskState.COMPLETED | TaskState.CANCELLED
PREDICTED = TaskState.PREDICTED_MASK | TaskState.FUTURE
_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)


@dataclass
class MigrationOutcome:
    """What happened to one instance asked to move: migrated, or the exact reasons why not."""

    instance_id: int
    title: str
    migrated: bool
    reasons: list[str] = field(default_factory=list)
    from_version: int | None = None
    to_version: int | None = None


def _label(task_spec) -> str:
    name = task_spec.bpmn_name or task_spec.bpmn_id or task_spec.name
    return f"« {name} » ({task_spec.bpmn_id or task_spec.name})"


def _workflows(workflow: BpmnWorkflow) -> list:
    return [workflow, *workflow.subprocesses.values()]


def refusal_reasons(instance: ProcessInstance, workflow: BpmnWorkflow | None, target: Deployment,
                    new_bundle: ProcessBundle | None) -> list[str]:
    """Why an instance cannot move to `target`, in French; empty when it can.

    `workflow` and `new_bundle` may be None when a reason is found before loading them.
    """
    version = instance.deployment_id
    if instance.status in FINISHED_STATUSES:
        return ["Ce dossier est terminé : il n'attend plus rien et reste sur sa version."]
    if instance.status == "suspended":
        return ["Ce dossier est suspendu : reprenez-le avant de le migrer."]
    if target.id <= version:
        return [f"La version {target.id} n'est pas plus récente que la version actuelle du dossier ({version})."]
    if instance.process_id not in target.process_ids:
        return [f"Le processus « {instance.process_id} » n'existe pas dans la version {target.id}."]
    if workflow is None or new_bundle is None:
        return []
    reasons = []
    new_specs = new_bundle.subprocess_specs.get(instance.process_id, {})
    for process in _workflows(workflow):
        name = process.spec.name
        new_spec = new_bundle.specs[instance.process_id] if process is workflow else new_specs.get(name)
        live = [task for task in process.tasks.values() if task.has_state(LIVE)]
        if new_spec is None:
            if live:
                reasons.append(f"Le sous-processus « {name} », où ce dossier attend encore, n'existe plus "
                               f"dans la version {target.id}.")
            continue
        for task in live:
            candidate = new_spec.task_specs.get(task.task_spec.name)
            if candidate is None:
                reasons.append(f"L'étape {_label(task.task_spec)} du processus « {name} », où ce dossier attend, "
                               f"n'existe plus dans la version {target.id}.")
            elif type(candidate) is not type(task.task_spec):
                reasons.append(f"L'étape {_label(task.task_spec)} du processus « {name} », où ce dossier attend, "
                               f"change de nature dans la version {target.id} ({type(task.task_spec).__name__} → "
                               f"{type(candidate).__name__}).")
    return list(dict.fromkeys(reasons))


def migrate_state(workflow: BpmnWorkflow, instance: ProcessInstance, new_bundle: ProcessBundle) -> BpmnWorkflow:
    """Move a loaded workflow onto the new bundle's specs and return it reloaded from its new state.

    The caller checked `refusal_reasons` first. Raises when the new state cannot be read back.
    """
    new_spec = new_bundle.specs[instance.process_id]
    new_dependencies = new_bundle.subprocess_specs[instance.process_id]
    # Timers keep their deadlines: resetting a waiting task would arm its timer again from now.
    kept_events = {task.id: task.internal_data.get("event_value") for process in _workflows(workflow)
                   for task in process.tasks.values() if task.has_state(TaskState.WAITING)}
    top_diff, sub_diffs = diff_workflow(_REGISTRY, workflow, new_spec, new_dependencies)
    subprocesses = list(workflow.subprocesses.items())
    migrate_workflow(top_diff, workflow, new_spec)
    for sub_id, subprocess in subprocesses:
        if sub_diffs.get(sub_id) is not None:
            migrate_workflow(sub_diffs[sub_id], subprocess, new_dependencies[subprocess.spec.name])
    workflow.subprocess_specs = new_dependencies
    for process in _workflows(workflow):
        spec = new_spec if process is workflow else new_dependencies.get(process.spec.name)
        if spec is not None:
            _drop_unknown_tasks(workflow, process, spec)
    for process in _workflows(workflow):
        for task_id, value in kept_events.items():
            task = process.tasks.get(task_id)
            if task is not None and value is not None and task.has_state(TaskState.WAITING):
                task.internal_data["event_value"] = value
    serializer = new_bundle.serializers[instance.process_id]
    return serializer.loads(serializer.dumps(workflow))


def _drop_unknown_tasks(top: BpmnWorkflow, process, spec) -> None:
    """Take out of a process the tasks whose step the new spec no longer has.

    Predictions go with what hangs under them (they are drawn again from the new
    diagram when their parent finishes); a finished task is spliced out, its
    children attached to its parent, so the path around it stays whole.
    """
    for task in list(process.tasks.values()):
        if task.id not in process.tasks or spec.task_specs.get(task.task_spec.name) is task.task_spec:
            continue
        if task.has_state(PREDICTED):
            spiff_internals.remove_task(process, task.id)
        elif task.has_state(FINISHED) and task.parent is not None:
            if task.id in top.subprocesses:
                top.delete_subprocess(task)
            parent = task.parent
            spiff_internals.replace_child(parent, task.id, spiff_internals.child_ids(task))
            for child in task.children:
                spiff_internals.set_parent(child, parent.id)
            process.tasks.pop(task.id)
