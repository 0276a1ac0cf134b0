"""Starting and advancing instances: one transaction per start or completion.

A completion loads the instance (with its version for optimistic locking),
checks role and scope, validates the form (JSON Schema and handler rules),
completes the SpiffWorkflow task, runs the engine steps (service tasks call
handlers, business rule tasks evaluate DMN; the first handler claims the
instance's row if its version is still the one read, otherwise the caller gets
a `Conflict` before any handler runs) and writes the instance row (on the same
version condition), the state, the task table, documents and an audit event
in one commit. A failing handler leaves
an incident on the instance; the user's input is kept.

This module owns what happens to an instance (start, its ready task and form, validation, completion, retry,
timers, events) and the engine steps. Reading and writing instances (claim, state, task and timer rows, audit,
the workflow cache) is `engine.runtime.store`'s; what handlers receive is `engine.runtime.handler_context`'s.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

import handlers
from engine import forms
from engine.access import Principal, require_act
from engine.documents import DocumentStore
from engine.errors import SUSPENDED, Conflict, FormInvalid, NotFound, StartRefused, rolls_back
from engine.form_checks import validate
from engine.models import Establishment, ProcessInstance, Structure, TaskDraft, TaskRow
from engine.runtime import form_bounds, spiff_internals
from engine.runtime.budget import Budget
from engine.runtime.deployment import ProcessBundle, bundle_for, current_deployment
from engine.runtime.drafts import draft_of, keep_draft
from engine.runtime.handler_context import HandlerContexts
from engine.runtime.store import InstanceStore, LoadedWorkflow, OpenState
from engine.runtime.tasks import has_form, spiff_form
from engine.runtime.timers import align_calendar_cycles, engine_clock, find_task
from engine.uploads import Attachments, Upload, max_upload_bytes
from handlers.formats import plural

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuntimeSettings:
    """What the runtime takes from the platform's configuration, and nothing more (no secret reaches it)."""

    # Where documents (produced and uploaded) are stored.
    storage_dir: Path
    # Largest file accepted in a form.
    max_upload_bytes: int = max_upload_bytes(None)
    # What each script, condition, DMN cell and expression of the processes may spend.
    script_budget: Budget = Budget()


@dataclass(frozen=True)
class ReadyTask:
    """A task the principal may complete: its row, its live engine task, and the workflow and bundle it runs in."""

    row: TaskRow
    workflow: BpmnWorkflow
    task: SpiffTask
    bundle: ProcessBundle

    @cached_property
    def form(self) -> forms.Form:
        """The task's form as deployed, read from its version's files once per request."""
        return spiff_form(self.bundle, self.task.task_spec)

    @property
    def loaded(self) -> LoadedWorkflow:
        """The workflow and bundle, as the instance store saves them."""
        return LoadedWorkflow(self.workflow, self.bundle)


class ProcessRuntime:
    """Runs the campaign's processes against one database session."""

    def __init__(self, session: Session, settings: RuntimeSettings, clock: Callable[[], datetime] = datetime.now):
        self.session = session
        self.settings = settings
        self.clock = clock
        self.documents = DocumentStore(settings.storage_dir)
        self.instances = InstanceStore(session, self._now)
        self.contexts = HandlerContexts(session, self.documents, self._now, settings.script_budget,
                                        self.instances.campaign_read, self.instances.claim)

    def _now(self) -> datetime:
        # The parts ask the runtime for the time when they need it: a caller may give the runtime another clock.
        return self.clock()

    @rolls_back
    def start(self, process_id: str, principal: Principal | None, *, establishment: Establishment | None = None,
              structure: Structure | None = None, campaign: str | None = None) -> ProcessInstance:
        """Start a process for an establishment (or a structure, for trainings) and run it to its first task."""
        deployment = current_deployment(self.session)
        if deployment is None:
            raise StartRefused("Aucun processus n'est déployé.")
        bundle = bundle_for(deployment)
        if process_id not in bundle.specs:
            raise StartRefused(f"Le processus « {process_id} » n'existe pas dans la version déployée.")
        now = self.clock()
        data: dict[str, Any] = {"campaign": campaign}
        if establishment is not None:
            data["establishment_id"] = establishment.id
            data["establishment"] = {
                "uai": establishment.uai, "name": establishment.name, "ogec_name": establishment.ogec_name,
                "department": establishment.department, "network": establishment.network,
            }
        if structure is not None:
            data["structure_code"] = structure.code
            data["structure_name"] = structure.name
        subject = establishment.name if establishment is not None else (structure.name if structure else "")
        instance = ProcessInstance(
            deployment_id=deployment.id, process_id=process_id,
            # A process about nothing (catalogue subject « none ») is titled by its name alone.
            title=f"{bundle.process_name(process_id)} — {subject}" if subject else bundle.process_name(process_id),
            establishment_id=establishment.id if establishment is not None else None,
            department=establishment.department if establishment is not None else None,
            structure_code=structure.code if structure is not None else None,
            campaign=campaign, status="running", created_at=now, updated_at=now,
            started_by_id=principal.person_id if principal else None,
        )
        self.instances.add(instance)
        workflow = BpmnWorkflow(bundle.specs[process_id], bundle.subprocess_specs[process_id],
                                script_engine=self.contexts.script_engine(instance, None))
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        self._advance(workflow, instance)
        self.instances.record(instance, None, "started", bundle.process_name(process_id), principal, None)
        self.instances.save(LoadedWorkflow(workflow, bundle), instance, principal)
        return instance

    def load(self, instance: ProcessInstance, for_change: bool = True,
             ready_rows: list[TaskRow] | None = None) -> LoadedWorkflow:
        """Restore an instance's workflow with the restricted script engine set again (see `InstanceStore.load`)."""
        loaded = self.instances.load(instance, for_change, ready_rows)
        # Deserialising restores SpiffWorkflow's unrestricted default engine; a kept workflow has another request's.
        loaded.workflow.script_engine = self.contexts.script_engine(instance, None)
        return loaded

    def open_state(self, instance: ProcessInstance) -> OpenState | None:
        """What an instance this runtime just completed a task of waits on (ready rows, timers), read from memory."""
        return self.instances.open_state(instance.id)

    @rolls_back
    def ready_task(self, task_id: str, principal: Principal, for_change: bool = True) -> ReadyTask:
        """Return a task the principal may complete, with its live engine task; raise otherwise.

        `for_change` False: the task is only shown, not completed (see `InstanceStore.load`).
        """
        siblings = self.instances.ready_siblings(task_id)
        row = next((candidate for candidate in siblings if candidate.id == task_id), None)
        if row is None:
            row = self.session.get(TaskRow, task_id)
            if row is None:
                raise NotFound("Cette tâche n'existe pas.")
            require_act(principal, row)
            raise Conflict("Cette tâche a déjà été traitée.")
        require_act(principal, row)
        if row.instance.status == "suspended":
            raise Conflict(SUSPENDED)
        loaded = self.load(row.instance, for_change, ready_rows=siblings)
        task = loaded.workflow.get_task_from_id(UUID(row.id))
        if task is None or task.state != TaskState.READY:
            raise Conflict("Cette tâche n'est plus à traiter.")
        return ReadyTask(row, loaded.workflow, task, loaded.bundle)

    def validate(self, ready: ReadyTask, data: dict) -> dict[str, list[str]]:
        """Errors of submitted data against the task's form and its handler rules, all in one round.

        The rules see only the fields that passed the form's checks (they read values with `.get`), and a field
        already in error keeps its format message alone: each field says one thing to fix first.
        """
        row, task = ready.row, ready.task
        errors = validate(self.task_form(ready), data, self.clock().date())
        rules = handlers.FORM_RULES.get(row.spec_id, [])
        context = self.contexts.for_task(row.instance, row.id) if rules else None
        malformed = set(errors) - {forms.FORM_LEVEL}
        checked = {name: value for name, value in data.items() if name not in malformed}
        for rule in rules:
            for name, message in rule(context, checked, task.data):
                if name not in malformed:
                    errors.setdefault(name or forms.FORM_LEVEL, []).append(message)
        return errors

    def task_form(self, ready: ReadyTask) -> forms.Form:
        """The task's form as served: limits from the rules and the campaign, choices computed for its instance."""
        form = ready.form
        spec_id = ready.row.spec_id
        sources = form.choice_sources()
        context = (self.contexts.for_task(ready.row.instance, ready.row.id)
                   if sources or form_bounds.uses_campaign(spec_id) else None)
        bounds = form_bounds.form_bounds(spec_id, context.campaign if context is not None else None)
        if bounds:
            form = form.with_bounds(bounds)
        if not sources or context is None:
            return form
        return form.with_choices({name: handlers.CHOICES[source](context, ready.task.data)
                                  for name, source in sources.items()})

    @rolls_back
    def complete(self, task_id: str, principal: Principal, data: dict,
                 ready: ReadyTask | None = None) -> ProcessInstance:
        """Complete a user task with submitted data, run the process on, and commit.

        `ready` is what `ready_task` returned for this task in the same request, to avoid loading twice.
        A refusal leaves the session rolled back, except for the files received, which stay stored.
        """
        ready = ready or self.ready_task(task_id, principal)
        row, task = ready.row, ready.task
        # Files are stored (and committed) first, so that a mistake elsewhere in the form does not lose them.
        attachments = Attachments(self.session, self.documents, row, self.settings.max_upload_bytes)
        data, upload_errors = attachments.receive(ready.form, data)
        errors = {**self.validate(ready, data), **upload_errors}
        if errors:
            # What was typed is kept as the person's draft: they may come back to it another day.
            keep_draft(self.session, row, principal.person_id, self._draft_data(ready, data), self.clock())
            self.session.commit()
            raise FormInvalid(errors, data)
        instance = row.instance
        ready.workflow.script_engine = self.contexts.script_engine(instance, row.id)
        if has_form(task.task_spec):
            task.task_spec.add_data_from_form(task, data)
        # Running the task may arm or re-arm timers (a follow-up cycle): they must read the runtime's clock.
        with engine_clock(self.clock):
            task.run()
        self._advance(ready.workflow, instance)
        self.instances.record(instance, row, "completed", row.title, principal, data)
        self.instances.save(ready.loaded, instance, principal, completed={row.id})
        log.info("Tâche %s accomplie", row.spec_id, extra={"instance_id": instance.id, "task_id": row.id})
        return instance

    @rolls_back
    def save_draft(self, ready: ReadyTask, principal: Principal, data: dict) -> tuple[TaskDraft, dict[str, list[str]]]:
        """Keep what the person typed in a task's form without checking it, and commit.

        Files are stored and attached to the dossier as for a submission; a file refused (wrong type, too big)
        is left out of the draft and reported, by field.
        """
        attachments = Attachments(self.session, self.documents, ready.row, self.settings.max_upload_bytes)
        data, upload_errors = attachments.receive(ready.form, data)
        draft = keep_draft(self.session, ready.row, principal.person_id, self._draft_data(ready, data), self.clock())
        self.session.commit()
        return draft, upload_errors

    def draft(self, ready: ReadyTask, principal: Principal) -> TaskDraft | None:
        """The principal's draft of a ready task, if they kept one."""
        return draft_of(self.session, ready.row, principal.person_id)

    @staticmethod
    def _draft_data(ready: ReadyTask, data: dict) -> dict:
        # Only the form's own fields are kept, files as the references of the documents received.
        fields = ready.form.properties
        return {name: _without_nul(value) for name, value in data.items()
                if name in fields and not isinstance(value, Upload)}

    @rolls_back
    def retry(self, instance: ProcessInstance, principal: Principal) -> ProcessInstance:
        """Run again the tasks of an instance in incident (after the cause was fixed)."""
        loaded = self.load(instance)
        workflow = loaded.workflow
        for task in workflow.get_tasks(state=TaskState.ERROR):
            spiff_internals.make_ready(task)
        # The instance row stays untouched until `_advance` has claimed it; a new failure records its own incident.
        self._advance(workflow, instance)
        if not workflow.get_tasks(state=TaskState.ERROR):
            instance.incident = None
            instance.incident_node = None
        self.instances.record(instance, None, "retried", "Relance après incident", principal, None)
        self.instances.save(loaded, instance, principal)
        return instance

    @rolls_back
    def rejoin_ended_paths(self, instance: ProcessInstance, principal: Principal | None) -> int:
        """Let loop and multi-instance tasks merge the instances that ended unheard, run the process on, and commit.

        Repairs a dossier whose last volunteer path ended in a process that had parsed the specs without linking
        instances to their multi-instance task (see `spiff_internals.link_loop_children`): it waited for ever.
        Return how many ended instances were merged; with none, nothing is written.
        """
        if instance.status == "suspended":
            raise Conflict(SUSPENDED)
        loaded = self.load(instance)
        ended = spiff_internals.unmerged_instances(loaded.workflow)
        if not ended:
            return 0
        loops = sorted({spiff_internals.loop_name(child) for child in ended})
        try:
            for child in ended:
                spiff_internals.merge_instance(child)
        except SpiffWorkflowException as error:
            raise Conflict(f"Les parcours terminés ne se rattachent pas à « {', '.join(loops)} » : {error}") from error
        self._advance(loaded.workflow, instance)
        self.instances.record(instance, None, "rejoined", f"{paths_rejoined(len(ended))} à « {', '.join(loops)} »",
                              principal, None)
        self.instances.save(loaded, instance, principal)
        return len(ended)

    def fire_timers(self, instance: ProcessInstance, task_id: str) -> ProcessInstance:
        """Let the instance's timers due by the runtime's clock fire, run the process on, and commit.

        `task_id` is the engine task of the timer row that was due; a row whose task no longer waits is removed
        and nothing else happens.
        """
        loaded = self.load(instance)
        workflow, waiting = loaded.workflow, self.instances.waiting_timers(instance.id)
        if task_id not in waiting:
            # The timer went with a change committed after it was claimed: only its row is left to remove.
            self.instances.drop_timer(instance.id, task_id)
            return instance
        now = self.clock()
        due = [find_task(workflow, timer) for timer, (_spec, _kind, at) in waiting.items() if at < now]
        summary = ", ".join(t.task_spec.bpmn_name or t.task_spec.bpmn_id for t in due if t is not None)
        with engine_clock(self.clock):
            workflow.refresh_timers()
        self._advance(workflow, instance)
        self.instances.record(instance, None, "timer", summary, None, None)
        self.instances.save(loaded, instance, None)
        return instance

    @rolls_back
    def send_event(self, instance: ProcessInstance, event_for: Callable[[BpmnWorkflow], BpmnEvent | None],
                   principal: Principal, summary: str, data: dict) -> ProcessInstance:
        """Deliver the event `event_for` builds from the loaded workflow (a message, a signal), and commit.

        Raise `Conflict` when the instance waits on no such event any more.
        """
        loaded = self.load(instance)
        event = event_for(loaded.workflow)
        if event is None:
            raise Conflict("Ce dossier n'attend plus cet événement : rechargez la page.")
        with engine_clock(self.clock):
            loaded.workflow.send_event(event)
        self._advance(loaded.workflow, instance)
        self.instances.record(instance, None, "event", summary, principal, data)
        self.instances.save(loaded, instance, principal)
        return instance

    def _advance(self, workflow: BpmnWorkflow, instance: ProcessInstance) -> None:
        # The instance is claimed by its first service task (handlers write rows of their own), or else by the save.
        try:
            with engine_clock(self.clock):
                spiff_internals.run_engine_steps(workflow)
        except SpiffWorkflowException as error:
            failed = getattr(error, "task", None)
            where = failed.task_spec.bpmn_name or failed.task_spec.bpmn_id if failed is not None else "?"
            instance.incident = f"{where} : {error}"
            # The element in its own process (a call activity's child may fail): where the diagram marks it.
            instance.incident_node = (f"{failed.workflow.spec.name}:{failed.task_spec.bpmn_id}"
                                      if failed is not None else None)
        # A monthly cycle that fired (or was armed) takes its next occurrence on the calendar, not 31 days on.
        align_calendar_cycles(workflow)


def paths_rejoined(count: int) -> str:
    """« 1 parcours terminé rattaché », « 2 parcours terminés rattachés »: what a repair says it did."""
    return plural(count, "parcours terminé rattaché", "parcours terminés rattachés")


def _without_nul(value: Any) -> Any:
    """A draft's value without NUL characters, which PostgreSQL cannot store (a submission refuses them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {str(key).replace("\x00", ""): _without_nul(item) for key, item in value.items()}
    return value
