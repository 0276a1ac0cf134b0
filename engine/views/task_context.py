"""What a person needs in view to do a task, as analysts declare it in the task's UI hints (`ui:context`).

A user task's `*.uischema.json` may list sections shown above its form, read-only:

    "ui:context": [
      {"title": "Le projet d'accueil déposé", "task": "design_project"},
      {"title": "Demandes précédentes", "task": "review_project", "rounds": "all", "fields": ["comment"]},
      {"title": "L'établissement", "facts": [{"label": "Quota", "value": "{{ quota }} volontaire{{ 's' if quota > 1 }}"}]}
    ]

- `task`: the answers given to an earlier user task of the dossier, labelled by that task's form (choices by
  their titles, dates in French, files as links). Without `rounds`, the answers the dossier holds now (the last
  round); with `"rounds": "all"`, every time the task was done, newest first, with when and by whom; with
  `"rounds": "last"`, the latest time only (the previous monthly follow-up).
- `fields`: only these fields of that form, in this order (all of them by default).
- `facts`: lines whose value is a template rendered with the dossier's data (in the same sandbox as the
  instructions); a line whose value comes out empty is left out.
A section with nothing to show is left out. `processes validate` checks the task ids, fields and templates.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.forms import CONTEXT_KEY, FILE_FORMAT, ROUNDS, Form
from engine.models import AuditEvent, Person, ProcessInstance
from engine.runtime.budget import Budget
from engine.runtime.deployment import ProcessBundle
from engine.runtime.tasks import spiff_form
from engine.views.history import computed_labels
from engine.views.instructions import RENDERING_ERRORS, TEMPLATE_BUDGET, render_template_text
from handlers.formats import datetime_fr
from handlers.identifiers import display_phone

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class ContextLine:
    """One labelled value; `document_id` when the value is a file of the dossier."""

    label: str
    text: str
    document_id: int | None = None


@dataclass(frozen=True)
class ContextSection:
    """A titled group of lines; `note` says when and by whom, for an earlier round of a task."""

    title: str
    lines: list[ContextLine] = field(default_factory=list)
    note: str | None = None

    def as_data(self) -> dict:
        """The section as the API returns it."""
        return {"title": self.title, "note": self.note,
                "lines": [{"label": line.label, "text": line.text, "document_id": line.document_id}
                          for line in self.lines]}


def declared_context(form: Form) -> list[dict]:
    """The context sections a task's UI hints declare (an empty list when none, or not a list)."""
    declared = form.ui.get(CONTEXT_KEY)
    return [item for item in declared if isinstance(item, dict)] if isinstance(declared, list) else []


def user_task_spec(bundle: ProcessBundle, spec_id: str):
    """The engine spec of a user task of a deployment, by its id, or None."""
    for process_id, spec in bundle.specs.items():
        for candidate in [spec, *bundle.subprocess_specs.get(process_id, {}).values()]:
            task_spec = candidate.task_specs.get(spec_id)
            if task_spec is not None:
                return task_spec
    return None


def task_context(session: Session, instance: ProcessInstance, bundle: ProcessBundle, form: Form,
                 data: dict, budget: Budget = TEMPLATE_BUDGET) -> list[ContextSection]:
    """The sections shown above a task's form, from what its UI hints declare and the dossier's data."""
    sections: list[ContextSection] = []
    for declared in declared_context(form):
        title = str(declared.get("title") or "")
        if "facts" in declared:
            lines = _facts(declared.get("facts"), data, budget)
            if lines:
                sections.append(ContextSection(title, lines))
            continue
        spec = user_task_spec(bundle, str(declared.get("task")))
        if spec is None:
            continue
        earlier = spiff_form(bundle, spec)
        wanted = declared.get("fields") if isinstance(declared.get("fields"), list) else None
        labels = computed_labels(session, instance, earlier)
        if declared.get("rounds") in ROUNDS:
            for answers, note in _rounds(session, instance, spec.bpmn_id, ROUNDS[declared["rounds"]]):
                lines = _answers(earlier, answers, wanted, labels)
                if lines:
                    sections.append(ContextSection(title, lines, note))
            continue
        lines = _answers(earlier, _current_answers(spec, earlier, data), wanted, labels)
        if lines:
            sections.append(ContextSection(title, lines))
    return sections


def _current_answers(spec, form: Form, data: dict) -> dict:
    # A task with a variable name keeps its answers under it; otherwise they are merged into the dossier's data.
    variable = getattr(spec, "variable", None)
    if variable:
        answers = data.get(variable)
        return answers if isinstance(answers, dict) else {}
    return {name: data[name] for name in form.properties if name in data}


def _rounds(session: Session, instance: ProcessInstance, spec_id: str, limit: int | None) -> list[tuple[dict, str]]:
    rows = session.execute(
        select(AuditEvent, Person).outerjoin(Person, Person.id == AuditEvent.actor_id)
        .where(AuditEvent.instance_id == instance.id, AuditEvent.spec_id == spec_id,
               AuditEvent.kind == "completed")
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))
    return [(event.data or {}, f"Le {datetime_fr(event.at)}" + (f", par {person.full_name}" if person else ""))
            for event, person in rows]


def _answers(form: Form, answers: dict, wanted: list | None, labels: dict[str, dict]) -> list[ContextLine]:
    names = [name for name in wanted if name in form.properties] if wanted else [f.name for f in form.fields()]
    lines = []
    for name in names:
        value = answers.get(name)
        if value in (None, "", []):
            continue
        prop = form.properties[name]
        title = prop.get("title", name)
        if prop.get("format") == FILE_FORMAT and isinstance(value, dict):
            lines.append(ContextLine(title, str(value.get("filename") or "document"), _document_id(value)))
            continue
        computed = labels.get(name, {}).get(value) if isinstance(value, str) else None
        if computed is None and isinstance(value, str) and form.field_named(name).input_type == "tel":
            computed = display_phone(value)
        lines.append(ContextLine(title, computed or form.label_of(name, value)))
    return lines


def _document_id(value: dict) -> int | None:
    document_id = value.get("document_id")
    return document_id if isinstance(document_id, int) and not isinstance(document_id, bool) else None


def _facts(facts: Any, data: dict, budget: Budget) -> list[ContextLine]:
    lines = []
    for fact in facts if isinstance(facts, list) else []:
        if not isinstance(fact, dict):
            continue
        try:
            text = render_template_text(str(fact.get("value") or ""), data, budget)
        except RENDERING_ERRORS as error:
            # `processes validate` reports broken templates; a dossier whose data lacks a value shows no line.
            log.warning("Contexte de tâche : « %s » non rendu (%s)", fact.get("label"), error)
            continue
        if text:
            lines.append(ContextLine(str(fact.get("label") or ""), text))
    return lines
