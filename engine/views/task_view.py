"""What a task page shows: the form, instructions rendered from instance data, prefilled values."""
from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

import handlers
from engine.forms import Form
from engine.models import TaskRow
from engine.runtime.tasks import spiff_form
from handlers.formats import date_fr

# Instructions are templates written by analysts: sandboxed, and escaped by the page that shows them.
_INSTRUCTIONS = SandboxedEnvironment(autoescape=False)
_INSTRUCTIONS.filters["date_fr"] = date_fr


@dataclass
class TaskView:
    """A ready task as its page presents it."""

    row: TaskRow
    form: Form
    instructions: str
    values: dict
    # The instance data the task sees, for the panels some task pages show (the offer to publish).
    data: dict = field(default_factory=dict)


def render_instructions(template: str | None, data: dict) -> str:
    """Render a task's instructions with the instance data; a broken template shows as is."""
    if not template:
        return ""
    try:
        return _INSTRUCTIONS.from_string(template).render(**data).strip()
    except TemplateError:
        return template


def build_task_view(row: TaskRow, task, bundle, form: Form | None = None) -> TaskView:
    """Assemble the page of a ready engine task: form, instructions, values already given.

    `form` is the task's form with its computed choices, when the caller resolved them. A task shown for
    the first time is prefilled by its handler prefill (`handlers.FORM_PREFILL`) from the instance data.
    """
    spec = task.task_spec
    previous = task.data.get(spec.variable) if getattr(spec, "variable", None) else None
    if isinstance(previous, dict):
        values = dict(previous)
    else:
        prefill = handlers.FORM_PREFILL.get(spec.bpmn_id)
        values = prefill(task.data) if prefill is not None else {}
    return TaskView(
        row=row,
        form=form or spiff_form(bundle, spec),
        instructions=render_instructions(spec.extensions.get("instructionsForEndUser"), task.data),
        values=values,
        data=task.data,
    )
