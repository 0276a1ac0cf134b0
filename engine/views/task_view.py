"""What a task page shows: the instructions and context rendered from the dossier, the values to start from."""
from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup
from sqlalchemy.orm import Session

import handlers
from engine.forms import Form
from engine.models import TaskDraft, TaskRow
from engine.runtime.budget import Budget
from engine.runtime.tasks import spiff_form
from engine.views.instructions import TEMPLATE_BUDGET, markdown_html, render_instructions
from engine.views.task_context import ContextSection, task_context


@dataclass
class TaskView:
    """A ready task as its page presents it."""

    row: TaskRow
    form: Form
    # Markdown, rendered with the dossier's data (the page shows it as HTML: `markdown_html`).
    instructions: str
    values: dict
    # The instance data the task sees, for the panels some task pages show (the offer to publish).
    data: dict = field(default_factory=dict)
    context: list[ContextSection] = field(default_factory=list)
    # The person's draft the values come from, if any.
    draft: TaskDraft | None = None

    @property
    def instructions_html(self) -> Markup:
        """The instructions as the page shows them (Markdown as safe HTML)."""
        return markdown_html(self.instructions)


def starting_values(task, form: Form, draft: TaskDraft | None) -> dict:
    """The values a task's form opens with.

    The person's draft first; else, for a form that keeps its previous answers (a project sent back for
    changes), what was sent at the previous round; else the handler prefill (`handlers.FORM_PREFILL`) from the
    dossier's data. A decision taken again (a second review) starts empty: the previous one shows in its context.
    """
    if draft is not None:
        return dict(draft.data)
    spec = task.task_spec
    previous = task.data.get(spec.variable) if getattr(spec, "variable", None) else None
    if isinstance(previous, dict) and form.keeps_previous_answers:
        return dict(previous)
    prefill = handlers.FORM_PREFILL.get(spec.bpmn_id)
    return prefill(task.data) if prefill is not None else {}


def build_task_view(session: Session, row: TaskRow, task, bundle, form: Form | None = None,
                    draft: TaskDraft | None = None, budget: Budget = TEMPLATE_BUDGET) -> TaskView:
    """Assemble the page of a ready engine task: instructions, context, form, values to start from.

    `form` is the task's form with its computed choices, when the caller resolved them; `draft` the person's;
    `budget` what the analysts' templates may spend.
    """
    form = form or spiff_form(bundle, task.task_spec)
    return TaskView(
        row=row,
        form=form,
        instructions=render_instructions(task.task_spec.extensions.get("instructionsForEndUser"), task.data, budget),
        values=starting_values(task, form, draft),
        data=task.data,
        context=task_context(session, row.instance, bundle, form, task.data, budget),
        draft=draft,
    )
