"""An instance's history and documents as people read them: labelled, in order."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

import handlers
from engine.directory.lookups import SqlDirectory
from engine.forms import Form
from engine.models import AuditEvent, Document, Person, ProcessInstance, TaskRow
from engine.runtime.deployment import ProcessBundle, bundle_for
from engine.runtime.tasks import spiff_form
from handlers.context import HandlerContext

EVENT_LABELS = {
    "started": "Démarrage",
    "completed": "Tâche accomplie",
    "incident": "Incident",
    "retried": "Relance",
    "rejoined": "Réparation",
    "suspended": "Suspension",
    "resumed": "Reprise",
    "terminated": "Interruption",
    "reassigned": "Réaffectation",
    "migrated": "Migration de version",
    "anonymised": "Anonymisation",
    "anonymised_part": "Anonymisation partielle",
    "timer": "Échéance atteinte",
    "timer_fired": "Échéance déclenchée sans attendre",
    "timer_moved": "Échéance déplacée",
    "event": "Événement",
}
# Events that only those who run the platform act on: a timer firing on its date (the task it opens is what
# matters), a version migration, an incident and its retry, ended paths rejoined by a repair. The status of the
# dossier says when it is in incident.
TECHNICAL_EVENTS = frozenset({"timer", "migrated", "incident", "retried", "rejoined"})


@dataclass
class HistoryEntry:
    """One event of an instance with its submitted data labelled by the form."""

    event: AuditEvent
    actor: str | None
    fields: list[tuple[str, str]] = field(default_factory=list)
    # The volunteer place of the task the event completed, when it belongs to one.
    place: int | None = None

    @property
    def label(self) -> str:
        """Kind of event, in French."""
        return EVENT_LABELS.get(self.event.kind, self.event.kind)


def without_internal(bundle: ProcessBundle, spec_id: str | None, data: dict | None) -> dict | None:
    """Submitted data without the fields school staff never see."""
    form = form_of_spec(bundle, spec_id) if data else None
    hidden = form.internal_fields() if form is not None else set()
    return {name: value for name, value in data.items() if name not in hidden} if data and hidden else data


def form_of_spec(bundle: ProcessBundle, spec_id: str | None) -> Form | None:
    """The form of a user task of a deployment, found by the task's id."""
    if spec_id is None:
        return None
    for process_id, spec in bundle.specs.items():
        for candidate in [spec, *bundle.subprocess_specs.get(process_id, {}).values()]:
            task_spec = candidate.task_specs.get(spec_id)
            if task_spec is not None:
                return spiff_form(bundle, task_spec)
    return None


def instance_history(session: Session, instance: ProcessInstance, internal: bool = True) -> list[HistoryEntry]:
    """Events of an instance, oldest first, with labelled data; without the internal fields when `internal` is false
    (school staff)."""
    bundle = bundle_for(instance.deployment)
    rows = session.execute(
        select(AuditEvent, Person, TaskRow.place).outerjoin(Person, Person.id == AuditEvent.actor_id)
        .outerjoin(TaskRow, TaskRow.id == AuditEvent.task_id)
        .where(AuditEvent.instance_id == instance.id).order_by(AuditEvent.at, AuditEvent.id)
    )
    entries = []
    computed: dict[str, dict[str, dict]] = {}
    for event, person, place in rows:
        entry = HistoryEntry(event=event, actor=person.full_name if person else None, place=place)
        form = form_of_spec(bundle, event.spec_id)
        if event.data and form is not None and event.spec_id is not None:
            if event.spec_id not in computed:
                computed[event.spec_id] = computed_labels(session, instance, form)
            hidden = set() if internal else form.internal_fields()
            for name, value in event.data.items():
                if value in (None, "", []) or name in hidden:
                    continue
                title = form.properties.get(name, {}).get("title", name)
                label = computed[event.spec_id].get(name, {}).get(value) if isinstance(value, str) else None
                entry.fields.append((title, label or form.label_of(name, value)))
        entries.append(entry)
    return entries


def school_timeline(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """What a school's staff read of a history: what people did and decided, without the technical events."""
    return [entry for entry in entries if entry.event.kind not in TECHNICAL_EVENTS]


class _OnlyTheDirectory:
    """The contracts, documents and mailer of a context built for choice providers, which read the directory only."""

    def __getattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"choice providers have no {name}: they read the directory only")


def computed_labels(session: Session, instance: ProcessInstance, form: Form) -> dict[str, dict]:
    """Labels of the values of a form's computed choices (a tuteur's name for their login), as offered today."""
    sources = form.choice_sources()
    if not sources:
        return {}
    # Choice providers read only the directory and the instance's establishment.
    unavailable = _OnlyTheDirectory()
    context = HandlerContext(directory=SqlDirectory(session), contracts=unavailable, documents=unavailable,
                             mailer=unavailable, today=date.today())
    data = {"establishment_id": instance.establishment_id}
    return {name: {item["value"]: item["label"] for item in handlers.CHOICES[source](context, data)}
            for name, source in sources.items() if source in handlers.CHOICES}


def instance_documents(session: Session, instance_id: int) -> list[Document]:
    """Documents of an instance, newest first."""
    return list(session.scalars(
        select(Document).where(Document.instance_id == instance_id).order_by(Document.created_at.desc())
    ))


def open_tasks(session: Session, instance_id: int) -> list[TaskRow]:
    """Ready tasks of an instance."""
    return list(session.scalars(
        select(TaskRow).where(TaskRow.instance_id == instance_id, TaskRow.state == "ready").order_by(TaskRow.created_at)
    ))


def open_tasks_of(session: Session, instance_ids: list[int]) -> dict[int, list[TaskRow]]:
    """Ready tasks of several instances (a page of a list) in one query, oldest first, by instance id."""
    found: dict[int, list[TaskRow]] = {instance_id: [] for instance_id in instance_ids}
    if not instance_ids:
        return found
    # Each task's instance is already in the caller's hands: joining it again for every row would be waste.
    for task in session.scalars(select(TaskRow).options(lazyload(TaskRow.instance))
                                .where(TaskRow.instance_id.in_(instance_ids), TaskRow.state == "ready")
                                .order_by(TaskRow.created_at, TaskRow.id)):
        found[task.instance_id].append(task)
    return found
