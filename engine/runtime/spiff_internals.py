"""The SpiffWorkflow 3.2 internals the engine relies on, and only here.

SpiffWorkflow has no public way to splice a task out of a tree (compaction, version migration), to put a
failed task back to READY (retry after an incident), to read or move a timer's armed deadline (operators
firing or rescheduling a timer, monthly cycles kept on calendar months), or to list a gateway's conditions
(compiled when a worker starts). These helpers reach
the private attributes that do it. `pyproject.toml` pins SpiffWorkflow to the 3.2 line, and
tests/test_spiff_internals.py exercises every helper on a real workflow: an upgrade that renames or changes
one of them fails there, by name, instead of corrupting instances.
"""
from __future__ import annotations

from datetime import datetime
from importlib.metadata import version
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.bpmn_task_spec import _BpmnCondition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

SUPPORTED_LINE = "3.2."


def installed_version() -> str:
    """The installed SpiffWorkflow release."""
    return version("SpiffWorkflow")


def is_supported() -> bool:
    """Whether the installed SpiffWorkflow is of the line these helpers were written for."""
    return installed_version().startswith(SUPPORTED_LINE)


def parent_id(task: Task) -> UUID | None:
    """Id of a task's parent, even when the parent is no longer in the process's task table."""
    return task._parent


def child_ids(task: Task) -> list[UUID]:
    """Ids of a task's children, in order."""
    return list(task._children)


def open_tasks(workflow: Any, state: int, manual: bool | None = None) -> list[Task]:
    """The tasks of a workflow and its subprocesses in `state`, as `get_tasks(state=…, manual=…)` lists them.

    `state` is one of the states of a task reached and not finished (FUTURE, WAITING, READY, STARTED) or a mask
    of them.

    Every save looks for the ready and the waiting tasks: SpiffWorkflow's iterator does it through a filter
    object and a per-task subprocess look-up, several times the cost of this walk of the same tree in the same
    depth-first order (each subprocess's tree before the children of the task that runs it). Only tasks already
    reached (FUTURE and beyond) lead to a task that can be ready or waiting: the others are not descended into,
    as the iterator does for such a state. tests/test_spiff_internals.py compares both on real workflows.
    """
    if not state or state & ~TaskState.DEFINITE_MASK:
        raise ValueError(f"état de tâche non pris en charge : {state}")
    # A subprocess's own walk finds the subprocesses it calls in the top workflow's table, as the iterator does.
    subprocesses = workflow.top_workflow.subprocesses
    found = []
    pending = [workflow.task_tree]
    while pending:
        task = pending.pop()
        if task._state & state and (manual is None or task.task_spec.manual == manual):
            found.append(task)
        subprocess = subprocesses.get(task.id) if subprocesses else None
        if task._children and (task._state >= TaskState.FUTURE or subprocess is not None):
            tasks = task.workflow.tasks
            for child in reversed(task._children):
                found_child = tasks.get(child)
                if found_child is not None:
                    pending.append(found_child)
        if subprocess is not None:
            pending.append(subprocess.task_tree)
    return found


def run_engine_steps(workflow: Any) -> None:
    """Run the workflow's ready engine tasks until only people's tasks and waits are left, then its timers.

    `BpmnWorkflow.do_engine_steps` step for step (the deepest active subprocesses first, each until it has no
    ready task, then the top workflow, again while a round ran something or started a subprocess), with the
    ready tasks found by `open_tasks` instead of SpiffWorkflow's iterator: a completion looks for them several
    times, and that look-up was a tenth of its cost. tests/test_spiff_internals.py compares every look-up of a
    campaign with the iterator's.
    """
    def run_ready(process: Any) -> int:
        ran = 0
        for task in open_tasks(process, TaskState.READY, manual=False):
            task.run()
            ran += 1
        return ran

    def one_round() -> bool:
        active = workflow.get_active_subprocesses()
        for subprocess in sorted(active, key=lambda process: process.depth, reverse=True):
            while run_ready(subprocess) > 0:
                pass
            if subprocess.parent_task_id is not None:
                task = workflow.get_task_from_id(subprocess.parent_task_id)
                task.task_spec._update(task)
        ran = run_ready(workflow)
        return ran > 0 or len(workflow.get_active_subprocesses()) > len(active)

    while one_round():
        pass
    workflow.refresh_timers()


def gateway_conditions(task_spec: Any) -> list[str]:
    """The condition expressions on the outgoing flows of a gateway's spec (none for any other spec)."""
    return [condition.args[0] for condition, _name in getattr(task_spec, "cond_task_specs", ())
            if isinstance(condition, _BpmnCondition)]


def set_parent(task: Task, parent: UUID | None) -> None:
    """Hang a task under another parent (the parent's children are the caller's to update)."""
    task._parent = parent


def replace_child(parent: Task, child: UUID, replacements: list[UUID]) -> None:
    """Put `replacements` where `child` was among a parent's children, keeping the order."""
    position = parent._children.index(child)
    parent._children[position:position + 1] = list(replacements)


def remove_task(process: Any, task_id: UUID) -> None:
    """Take a task and everything under it out of a (sub)process."""
    process._remove_task(task_id)


def make_ready(task: Task) -> None:
    """Put a task in error back to READY, so that the next engine steps run it again."""
    task._set_state(TaskState.READY)


def armed_timer_value(task: Task) -> dict | str | None:
    """What a timer event task was armed with (its deadline or cycle), None before it is armed."""
    return task._get_internal_data("event_value")


def set_armed_timer_value(task: Task, value: dict | str) -> None:
    """Replace what a timer event task is armed with (as `armed_timer_value` returns it)."""
    task._set_internal_data(event_value=value)


def move_timer(task: Task, when: datetime) -> None:
    """Give an armed timer a new deadline (an aware time); a cycle moves only its next occurrence.

    A date or duration timer is armed with an ISO time, which SpiffWorkflow compares with the clock on every
    refresh; a cycle with a dict whose `next` is the coming occurrence (its count and period stay).
    """
    value = armed_timer_value(task)
    if value is None:
        raise ValueError(f"la minuterie {task.task_spec.bpmn_id} n'est pas armée")
    if isinstance(value, dict):
        set_armed_timer_value(task, {**value, "next": when.isoformat()})
    else:
        set_armed_timer_value(task, when.isoformat())


def link_loop_children(spec) -> None:
    """Let every loop and multi-instance task of a parsed process spec hear that one of its instances ended.

    SpiffWorkflow links an instance's spec to its loop task (`completed_event` → `merge_child`) when it creates
    the instance, in the process that runs it, and when it restores a serialised spec; not when the spec is
    parsed. The platform keeps the parsed specs out of the stored state: without this link, an instance that
    ends in another process (another worker, the same one restarted) is never merged, and its process waits
    for ever.
    """
    for task_spec in spec.task_specs.values():
        if isinstance(task_spec, LoopTask):
            child = spec.task_specs.get(task_spec.task_spec)
            if child is not None and not child.completed_event.is_connected(task_spec.merge_child):
                child.completed_event.connect(task_spec.merge_child)


def unmerged_instances(workflow: Any) -> list[Task]:
    """The ended instances of loop and multi-instance tasks that their loop task never heard of, in order.

    A loop task merges each instance when it ends (`link_loop_children`). An instance that ended in a process
    where the link was missing (before it was made at parse time) stays unmerged: its loop task waits for ever.
    """
    found: list[Task] = []
    for task in open_tasks(workflow, TaskState.STARTED):
        if isinstance(task.task_spec, LoopTask):
            merged = set(task.task_spec._merged_children(task))
            found.extend(child for child in task.task_spec._instances(task)
                         if child.state == TaskState.COMPLETED and str(child.id) not in merged)
    return found


def loop_name(child: Task) -> str:
    """What the diagram calls the loop or multi-instance task of an instance (the instance's spec holds the name)."""
    return child.task_spec.bpmn_name or child.parent.task_spec.bpmn_name or child.parent.task_spec.bpmn_id


def merge_instance(child: Task) -> None:
    """Let the loop task of an ended instance merge it now, as it would have when the instance ended."""
    child.parent.task_spec.merge_child(child.workflow, child)
