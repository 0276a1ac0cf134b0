"""The SpiffWorkflow 3.2 internals the engine relies on, and only here.

SpiffWorkflow has no public way to splice a task out of a tree (compaction, version migration), to put a
failed task back to READY (retry after an incident), or to read or move a timer's armed deadline (operators
firing or rescheduling a timer, monthly cycles kept on calendar months). These helpers reach
the private attributes that do it. `pyproject.toml` pins SpiffWorkflow to the 3.2 line, and
tests/test_spiff_internals.py exercises every helper on a real workflow: an upgrade that renames or changes
one of them fails there, by name, instead of corrupting instances.
"""
from __future__ import annotations

from datetime import datetime
from importlib.metadata import version
from typing import Any
from uuid import UUID

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
