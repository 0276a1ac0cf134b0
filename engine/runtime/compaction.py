"""Keeping an instance's engine state the same size however long it runs.

SpiffWorkflow keeps every task it ever ran in the task tree: a loop adds its
tasks again at each turn, as children of the previous turn's. Every request
rebuilds, scans and serialises the whole tree, so a follow-up loop of a
thousand meetings would make each completion slower than the one before.

Before each save the settled chain leading to the live part of the tree
(tasks completed or cancelled, with nothing left to run under them but one
branch) is cut down to its last `HISTORY_KEPT` tasks, re-attached to the
root. Live tasks and everything under them, their data (each task holds a
full copy) and incidents are untouched; what was submitted along the way
stays in the audit events, which are the history people read.
"""
from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.runtime import spiff_internals

# Enough for the gateways and merges of the last few turns of a loop; a campaign's main path (about 15
# tasks before its volunteer paths) stays whole.
HISTORY_KEPT = 20
SETTLED = TaskState.COMPLETED | TaskState.CANCELLED


def compact_workflow(workflow: BpmnWorkflow, kept: int | None = None) -> int:
    """Cut the settled history of a workflow and of its subprocesses; return how many tasks went."""
    kept = HISTORY_KEPT if kept is None else kept
    removed = 0
    for process in [workflow, *list(workflow.subprocesses.values())]:
        if process.tasks:
            removed += _compact(workflow, process, kept)
    return removed


def _compact(top: BpmnWorkflow, process, kept: int) -> int:
    if len(process.tasks) <= kept + 2:
        return 0
    live = [task for task in process.tasks.values() if not task.has_state(SETTLED)]
    if not live:
        return 0
    path = _common_path(process, live)
    # path[0] is the root; path[-1] is the first task with live work at or under it.
    cut = len(path) - 1 - kept
    if cut <= 1:
        return 0
    doomed: list[UUID] = []
    for position in range(1, cut):
        doomed.append(path[position].id)
        following = path[position + 1].id
        doomed.extend(_subtree_ids(process, [c for c in spiff_internals.child_ids(path[position]) if c != following]))
    for task_id in doomed:
        if task_id in top.subprocesses and task_id in process.tasks:
            top.delete_subprocess(process.tasks[task_id])
    root, first_kept = path[0], path[cut]
    spiff_internals.replace_child(root, path[1].id, [first_kept.id])
    spiff_internals.set_parent(first_kept, root.id)
    for task_id in doomed:
        process.tasks.pop(task_id, None)
    if process.last_task is not None and process.last_task.id not in process.tasks:
        process.last_task = None
    return len(doomed)


def _ancestors(process, task) -> list:
    chain = [task]
    while (parent := spiff_internals.parent_id(chain[-1])) is not None and parent in process.tasks:
        chain.append(process.tasks[parent])
    chain.reverse()
    return chain


def _common_path(process, live: list) -> list:
    """Path from the root to the deepest task that every live task sits at or under."""
    path = _ancestors(process, live[0])
    for task in live[1:]:
        seen = {ancestor.id for ancestor in _ancestors(process, task)}
        while path and path[-1].id not in seen:
            path.pop()
    return path


def _subtree_ids(process, roots: list[UUID]) -> list[UUID]:
    found, stack = [], list(roots)
    while stack:
        task_id = stack.pop()
        task = process.tasks.get(task_id)
        if task is None:
            continue
        found.append(task_id)
        stack.extend(spiff_internals.child_ids(task))
    return found
