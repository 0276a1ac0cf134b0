"""Personal data as a deployed version declares it: the forms' `x-personal` marks and what handlers derive.

A form field marked `x-personal` holds a person's data, kept as long as its
retention says (`engine.campaign.retention`). A marked file field
(`"format": "data-url"`) makes its documents personal. The variable a form lands
in is its user task's `spiffworkflow:variableName`; handlers declare what they
derive in `handlers.catalog` (`personal_result_fields`, `personal_documents`).
The marks are read once per deployed version and kept: deployments never change.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from sqlalchemy import select
from sqlalchemy.orm import object_session

from engine.campaign.retention import DEFAULT, retention_of
from engine.campaign.termination import TERMINATION_EVENT, TERMINATION_FORM
from engine.forms import FILE_FORMAT, Form
from engine.models import Deployment
from engine.runtime.deployment import PerVersion, ProcessBundle, bundle_for
from engine.runtime.tasks import spiff_form
from handlers.catalog import HANDLER_CATALOG


@dataclass(frozen=True)
class PersonalData:
    """Where one deployed version keeps personal data, each place with its retention key."""

    # Fields of each user task's form (audit events keep the submitted form).
    by_task: dict[str, dict[str, str]] = field(default_factory=dict)
    # Fields of the instance variables holding those forms, and of what handlers derive from them.
    by_variable: dict[str, dict[str, str]] = field(default_factory=dict)
    # Kinds of documents holding personal data: marked file fields, documents handlers produce.
    documents: dict[str, str] = field(default_factory=dict)
    # Personal fields holding an email address, by task: how a person's forms are found for an export.
    email_fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # User tasks whose completion puts personal data in an instance (its form, or the handlers it leads to).
    revealing_tasks: frozenset[str] = frozenset()
    # Fields of the form sent with a BPMN message (the early end of a mission), kept by its audit event.
    event_fields: dict[str, str] = field(default_factory=dict)

    @property
    def declares_forms(self) -> bool:
        """Whether the version's forms mark any field (versions deployed before the marks existed do not)."""
        return bool(self.by_task or self.event_fields)

    def retentions(self) -> set[str]:
        """Every retention key in use; the default one always (tables handlers fill follow it)."""
        found = {DEFAULT}
        for fields in (*self.by_task.values(), *self.by_variable.values(), self.documents, self.event_fields):
            found.update(fields.values())
        return found


def read_personal_data(bundle: ProcessBundle) -> PersonalData:
    """The personal data a parsed deployment declares, from its forms, BPMN variables and handlers."""
    by_task: dict[str, dict[str, str]] = {}
    by_variable: dict[str, dict[str, str]] = {}
    documents: dict[str, str] = {}
    emails: dict[str, tuple[str, ...]] = {}
    revealing: set[str] = set()
    for task_spec in _task_specs(bundle):
        if isinstance(task_spec, UserTask):
            form = spiff_form(bundle, task_spec)
            fields = {name: retention for name, mark in form.personal_marks().items()
                      if (retention := retention_of(mark)) is not None}
            if not fields:
                continue
            by_task.setdefault(task_spec.bpmn_id, {}).update(fields)
            if task_spec.variable:
                by_variable.setdefault(task_spec.variable, {}).update(fields)
            for name, retention in fields.items():
                prop = form.properties[name]
                if prop.get("format") == FILE_FORMAT:
                    documents[name] = retention
                if prop.get("format") == "email" or "email" in name:
                    emails[task_spec.bpmn_id] = (*emails.get(task_spec.bpmn_id, ()), name)
            revealing.add(task_spec.bpmn_id)
        elif (description := HANDLER_CATALOG.get(getattr(task_spec, "operation_name", None) or "")) is not None:
            derived = {name: DEFAULT for name in description.personal_result_fields}
            if derived and task_spec.result_variable:
                by_variable.setdefault(task_spec.result_variable, {}).update(derived)
            documents.update({kind: DEFAULT for kind in description.personal_documents})
            if derived or description.personal_documents:
                revealing.update(_user_tasks_before(task_spec))
    termination = _termination_fields(bundle)
    for variable in _message_variables(bundle, TERMINATION_EVENT):
        by_variable.setdefault(variable, {}).update(termination)
    return PersonalData(by_task=by_task, by_variable=by_variable, documents=documents, email_fields=emails,
                        revealing_tasks=frozenset(revealing), event_fields=termination)


def _termination_fields(bundle: ProcessBundle) -> dict[str, str]:
    """Personal fields of the early-termination form, a form shown outside any user task."""
    schema = bundle.form(TERMINATION_FORM)
    if schema is None:
        return {}
    return {name: retention for name, mark in Form(schema=schema).personal_marks().items()
            if (retention := retention_of(mark)) is not None}


def _message_variables(bundle: ProcessBundle, event_id: str) -> set[str]:
    """Variables the payload of the message caught by an event lands in (`spiffworkflow:messageVariable`)."""
    return {variable for task_spec in _task_specs(bundle) if task_spec.bpmn_id == event_id
            and (variable := getattr(getattr(task_spec, "event_definition", None), "message_var", None))}


def _task_specs(bundle: ProcessBundle) -> Iterator:
    """Every task spec of a deployment: its processes' and their embedded or called subprocesses'."""
    specs = {spec.name: spec for spec in bundle.specs.values()}
    for subprocesses in bundle.subprocess_specs.values():
        specs.update(subprocesses)
    for spec in specs.values():
        yield from spec.task_specs.values()


def _user_tasks_before(service_spec) -> set[str]:
    """User tasks whose completion runs a service task without another user task in between."""
    found, seen, queue = set(), set(), list(service_spec.inputs)
    while queue:
        spec = queue.pop()
        if spec.name in seen:
            continue
        seen.add(spec.name)
        if isinstance(spec, UserTask):
            found.add(spec.bpmn_id)
        else:
            queue.extend(spec.inputs)
    return found


# Read once per deployed version, like the parsed bundles.
_MARKS = PerVersion(lambda deployment: read_personal_data(bundle_for(deployment)))


def personal_data_of(deployment: Deployment) -> PersonalData:
    """The personal data of a deployed version, read once and kept.

    A version deployed before forms carried marks declares none: the latest version that does stands for it, so
    that its instances are still exported and anonymised.
    """
    found = _read(deployment)
    session = object_session(deployment)
    if found.declares_forms or session is None:
        return found
    for newer in session.scalars(select(Deployment).where(Deployment.id != deployment.id)
                                 .order_by(Deployment.id.desc())):
        if (marked := _read(newer)).declares_forms:
            return marked
    return found


def _read(deployment: Deployment) -> PersonalData:
    return _MARKS.of(deployment)
