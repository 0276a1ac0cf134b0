"""Starting and advancing instances: one transaction per start or completion.

A completion loads the instance (with its version for optimistic locking),
checks role and scope, validates the form (JSON Schema and handler rules),
claims the instance's row if its version is still the one read (otherwise
the caller gets a `Conflict` before anything runs), completes the
SpiffWorkflow task, runs the engine steps (service tasks call
handlers, business rule tasks evaluate DMN) and writes the state, the task
table, documents and an audit event in one commit. A failing handler leaves
an incident on the instance; the user's input is kept.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Set
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

import handlers
from engine import forms
from engine.access import Principal, require_act
from engine.campaign.campaigns import campaign_context
from engine.campaign.missions import SqlMissions
from engine.campaign.trainings import SqlTrainings
from engine.db import rows_matched
from engine.directory.lookups import SqlContracts, SqlDirectory
from engine.documents import DocumentStore, InstanceDocuments
from engine.errors import CONCURRENT_CHANGE, SUSPENDED, Conflict, FormInvalid, NotFound, StartRefused
from engine.mail import Mailer
from engine.models import AuditEvent, Establishment, ProcessInstance, Structure, TaskRow
from engine.models.runtime import FINISHED_STATUSES
from engine.runtime import spiff_internals
from engine.runtime.compaction import compact_workflow
from engine.runtime.decisions import BundleDecisions
from engine.runtime.deployment import ProcessBundle, bundle_for, current_deployment
from engine.runtime.scripting import CampaignScriptEngine
from engine.runtime.tasks import instance_status, spiff_form, sync_task_rows
from engine.runtime.timers import WaitingTimers, engine_clock, find_task, forget_timer, sync_timers, waiting_timers
from engine.runtime.workflow_cache import WORKFLOWS, identity_of
from engine.uploads import Attachments, max_upload_bytes
from handlers.context import HandlerContext

log = logging.getLogger(__name__)

# Statements of every completion, built once.
# The task, the other ready tasks of its instance (saving needs them) and the instance with its establishment;
# the engine state is read only if this process has no workflow of that version at hand.
READY_SIBLINGS = (
    select(TaskRow).options(joinedload(TaskRow.instance).joinedload(ProcessInstance.establishment))
    .where(TaskRow.instance_id == select(TaskRow.instance_id).where(TaskRow.id == bindparam("task_id"))
           .scalar_subquery(), TaskRow.state == "ready")
)
_INSTANCES = ProcessInstance.__table__
CLAIM = (update(_INSTANCES).where(_INSTANCES.c.id == bindparam("instance_id"),
                                  _INSTANCES.c.version == bindparam("read_version"))
         .values(version=_INSTANCES.c.version))


class ProcessRuntime:
    """Runs the campaign's processes against one database session."""

    def __init__(self, session: Session, storage_dir: Path, clock: Callable[[], datetime] = datetime.now,
                 settings: dict | None = None):
        self.session = session
        self.store = DocumentStore(storage_dir)
        self.clock = clock
        self.settings = settings or {}
        # One handler context per instance and task in a request: rules and service tasks share its look-ups.
        self._contexts: dict[tuple[int, str | None], HandlerContext] = {}
        # Timers each loaded instance waited on, which its timer rows hold: saving writes only what changed.
        self._timers: dict[int, WaitingTimers] = {}
        # Ready task rows of an instance as `ready_task` read them; the version check guards their freshness.
        self._ready_rows: dict[int, list[TaskRow]] = {}

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
        subject = establishment.name if establishment is not None else (structure.name if structure else "")
        instance = ProcessInstance(
            deployment_id=deployment.id, process_id=process_id,
            title=f"{bundle.process_name(process_id)} — {subject}",
            establishment_id=establishment.id if establishment is not None else None,
            department=establishment.department if establishment is not None else None,
            structure_code=structure.code if structure is not None else None,
            campaign=campaign, status="running", state="", created_at=now, updated_at=now,
            started_by_id=principal.person_id if principal else None,
        )
        self.session.add(instance)
        self.session.flush()
        workflow = BpmnWorkflow(bundle.specs[process_id], bundle.subprocess_specs[process_id],
                                script_engine=self._script_engine(instance, None))
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(data)
        self._advance(workflow, instance)
        self._record(instance, None, "started", bundle.process_name(process_id), principal, None)
        self._save(workflow, instance, bundle, principal)
        return instance

    def load(self, instance: ProcessInstance, for_change: bool = True) -> tuple[BpmnWorkflow, ProcessBundle]:
        """Restore an instance's workflow with the restricted script engine set again.

        To change it, the workflow this process saved last for the instance is taken when the row still has
        the version it was saved at. To read it only (`for_change` False), the state is always deserialised
        and that kept workflow stays for the change that usually follows.
        """
        bundle = bundle_for(instance.deployment)
        workflow = WORKFLOWS.take(instance.id, identity_of(instance)) if for_change else None
        if workflow is None:
            workflow = bundle.serializers[instance.process_id].loads(instance.state)
        # Deserialising restores SpiffWorkflow's unrestricted default engine.
        workflow.script_engine = self._script_engine(instance, None)
        self._timers[instance.id] = waiting_timers(workflow)
        return workflow, bundle

    def ready_task(self, task_id: str, principal: Principal,
                   for_change: bool = True) -> tuple[TaskRow, BpmnWorkflow, object, ProcessBundle]:
        """Return a task the principal may complete, with its live engine task; raise otherwise.

        `for_change` False: the task is only shown, not completed (see `load`).
        """
        siblings = list(self.session.scalars(READY_SIBLINGS, {"task_id": task_id}))
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
        self._ready_rows[row.instance_id] = siblings
        workflow, bundle = self.load(row.instance, for_change)
        task = workflow.get_task_from_id(UUID(row.id))
        if task is None or task.state != TaskState.READY:
            raise Conflict("Cette tâche n'est plus à traiter.")
        return row, workflow, task, bundle

    def validate(self, row: TaskRow, task, bundle: ProcessBundle, data: dict) -> dict[str, list[str]]:
        """Errors of submitted data against the task's form and its handler rules."""
        form = self.task_form(row, task, bundle)
        errors = forms.validate(form, data)
        if errors:
            return errors
        rules = handlers.FORM_RULES.get(row.spec_id, [])
        context = self._handler_context(row.instance, row.id) if rules else None
        for rule in rules:
            for name, message in rule(context, data, task.data):
                errors.setdefault(name or forms.FORM_LEVEL, []).append(message)
        return errors

    def task_form(self, row: TaskRow, task, bundle: ProcessBundle) -> forms.Form:
        """The task's form, with the choices computed for its instance (the school's tuteurs)."""
        form = spiff_form(bundle, task.task_spec)
        sources = form.choice_sources()
        if not sources:
            return form
        context = self._handler_context(row.instance, row.id)
        return form.with_choices({name: handlers.CHOICES[source](context, task.data)
                                  for name, source in sources.items()})

    def complete(self, task_id: str, principal: Principal, data: dict, loaded: tuple | None = None) -> ProcessInstance:
        """Complete a user task with submitted data, run the process on, and commit.

        `loaded` is what `ready_task` returned for this task in the same request, to avoid loading twice.
        """
        row, workflow, task, bundle = loaded or self.ready_task(task_id, principal)
        # Files are stored (and committed) first, so that a mistake elsewhere in the form does not lose them.
        attachments = Attachments(self.session, self.store, row, max_upload_bytes(self.settings))
        data, upload_errors = attachments.receive(spiff_form(bundle, task.task_spec), data)
        errors = {**self.validate(row, task, bundle, data), **upload_errors}
        if errors:
            raise FormInvalid(errors, data)
        instance = row.instance
        workflow.script_engine = self._script_engine(instance, row.id)
        task.task_spec.add_data_from_form(task, data)
        task.run()
        self._advance(workflow, instance)
        self._record(instance, row, "completed", row.title, principal, data)
        self._save(workflow, instance, bundle, principal, completed={row.id})
        log.info("Tâche %s accomplie", row.spec_id, extra={"instance_id": instance.id, "task_id": row.id})
        return instance

    def retry(self, instance: ProcessInstance, principal: Principal) -> ProcessInstance:
        """Run again the tasks of an instance in incident (after the cause was fixed)."""
        workflow, bundle = self.load(instance)
        for task in workflow.get_tasks(state=TaskState.ERROR):
            spiff_internals.make_ready(task)
        # The instance row stays untouched until `_advance` has claimed it; a new failure records its own incident.
        self._advance(workflow, instance)
        if not workflow.get_tasks(state=TaskState.ERROR):
            instance.incident = None
            instance.incident_node = None
        self._record(instance, None, "retried", "Relance après incident", principal, None)
        self._save(workflow, instance, bundle, principal)
        return instance

    def fire_timers(self, instance: ProcessInstance, task_id: str) -> ProcessInstance:
        """Let the instance's timers due by the runtime's clock fire, run the process on, and commit.

        `task_id` is the engine task of the timer row that was due; a row whose task no longer waits is removed
        and nothing else happens.
        """
        workflow, bundle = self.load(instance)
        if task_id not in self._timers[instance.id]:
            # The timer went with a change committed after it was claimed: only its row is left to remove.
            forget_timer(self.session, instance.id, task_id)
            self.session.commit()
            return instance
        now = self.clock()
        due = [find_task(workflow, waiting) for waiting, (_spec, _kind, at) in self._timers[instance.id].items()
               if at < now]
        summary = ", ".join(t.task_spec.bpmn_name or t.task_spec.bpmn_id for t in due if t is not None)
        with engine_clock(self.clock):
            workflow.refresh_timers()
        self._advance(workflow, instance)
        self._record(instance, None, "timer", summary, None, None)
        self._save(workflow, instance, bundle, None)
        return instance

    def send_event(self, instance: ProcessInstance, event_for: Callable[[BpmnWorkflow], BpmnEvent | None],
                   principal: Principal, summary: str, data: dict) -> ProcessInstance:
        """Deliver the event `event_for` builds from the loaded workflow (a message, a signal), and commit.

        Raise `Conflict` when the instance waits on no such event any more.
        """
        workflow, bundle = self.load(instance)
        event = event_for(workflow)
        if event is None:
            raise Conflict("Ce dossier n'attend plus cet événement : rechargez la page.")
        workflow.send_event(event)
        self._advance(workflow, instance)
        self._record(instance, None, "event", summary, principal, data)
        self._save(workflow, instance, bundle, principal)
        return instance

    def _advance(self, workflow: BpmnWorkflow, instance: ProcessInstance) -> None:
        self._claim(instance)
        try:
            with engine_clock(self.clock):
                workflow.do_engine_steps()
        except SpiffWorkflowException as error:
            failed = getattr(error, "task", None)
            where = failed.task_spec.bpmn_name or failed.task_spec.bpmn_id if failed is not None else "?"
            instance.incident = f"{where} : {error}"
            # The element in its own process (a call activity's child may fail): where the diagram marks it.
            instance.incident_node = (f"{failed.workflow.spec.name}:{failed.task_spec.bpmn_id}"
                                      if failed is not None else None)

    def _claim(self, instance: ProcessInstance) -> None:
        """Hold the instance's row for this transaction, unless someone changed it since it was read.

        Handlers write rows of their own (training sessions, contracts, documents) while the engine runs, and
        flush them before the instance is saved: a concurrent change must turn this transaction away before
        they run, as a conflict, not fail later on a duplicate row. PostgreSQL locks the row; SQLite takes
        its single write lock. Either way the other writer waits, then finds the version changed.
        """
        try:
            # Without autoflush: changes the caller already made to the instance must not be written (and its
            # version raised) before the claim compares versions.
            with self.session.no_autoflush:
                claimed = rows_matched(self.session.execute(CLAIM, {"instance_id": instance.id,
                                                                    "read_version": instance.version}))
        except OperationalError as error:
            if "locked" not in str(error).lower():
                raise
            claimed = 0
        if claimed != 1:
            log.warning("Conflit : dossier modifié entre-temps", extra={"instance_id": instance.id})
            self.session.rollback()
            raise Conflict(CONCURRENT_CHANGE)

    def _save(self, workflow: BpmnWorkflow, instance: ProcessInstance, bundle: ProcessBundle,
              principal: Principal | None, completed: Set[str] = frozenset()) -> None:
        now = self.clock()
        instance_id = instance.id  # read now: a failed flush expires the instance's attributes
        compact_workflow(workflow)
        try:
            # Without autoflush the instance row is written once, with its state and current step together.
            with self.session.no_autoflush:
                instance.state = bundle.serializers[instance.process_id].dumps(workflow)
                instance.status, instance.outcome = instance_status(workflow, instance.incident)
                instance.updated_at = now
                if instance.status in FINISHED_STATUSES and instance.ended_at is None:
                    instance.ended_at = now
                titles = sync_task_rows(self.session, workflow, instance, now, completed,
                                        principal.person_id if principal else None,
                                        ready_rows=self._ready_rows.pop(instance.id, None))
                instance.current_step = ", ".join(titles)[:500] or None
                sync_timers(self.session, instance, self._timers.pop(instance.id, {}), workflow)
            self.session.commit()
            WORKFLOWS.keep(instance_id, identity_of(instance), workflow)
        except StaleDataError as error:
            log.warning("Conflit : dossier modifié entre-temps", extra={"instance_id": instance_id})
            self.session.rollback()
            raise Conflict(CONCURRENT_CHANGE) from error
        except OperationalError as error:
            # SQLite refuses to upgrade a read snapshot that another writer made stale.
            self.session.rollback()
            if "locked" not in str(error).lower():
                raise
            log.warning("Conflit : base occupée par une autre écriture", extra={"instance_id": instance_id})
            raise Conflict(CONCURRENT_CHANGE) from error

    def _record(self, instance: ProcessInstance, row: TaskRow | None, kind: str, summary: str,
                principal: Principal | None, data: dict | None) -> None:
        self.session.add(AuditEvent(
            instance_id=instance.id, task_id=row.id if row else None, spec_id=row.spec_id if row else None,
            kind=kind, summary=summary[:500], actor_id=principal.person_id if principal else None,
            data=data, at=self.clock(),
        ))
        if instance.incident:
            self.session.add(AuditEvent(
                instance_id=instance.id, kind="incident", summary=instance.incident[:500], at=self.clock(),
            ))

    def _handler_context(self, instance: ProcessInstance, task_id: str | None) -> HandlerContext:
        key = (instance.id, task_id)
        if key not in self._contexts:
            self._contexts[key] = self._new_handler_context(instance, task_id)
        return self._contexts[key]

    def _new_handler_context(self, instance: ProcessInstance, task_id: str | None) -> HandlerContext:
        today: date = self.clock().date()
        return HandlerContext(
            directory=SqlDirectory(self.session),
            contracts=SqlContracts(self.session, instance.id, today),
            documents=InstanceDocuments(self.store, self.session, instance.id, task_id),
            mailer=Mailer(self.session, instance.id, self.clock),
            today=today,
            instance_id=instance.id,
            settings=self.settings,
            campaign=(campaign_context(self.session, instance.campaign, instance.establishment_id, today)
                      if instance.process_id == "hosting_project" else None),
            decisions=BundleDecisions(bundle_for(instance.deployment)),
            missions=SqlMissions(self.session, instance.id, self.clock),
            trainings=SqlTrainings(self.session, instance.id, self.clock),
        )

    def _script_engine(self, instance: ProcessInstance, task_id: str | None) -> CampaignScriptEngine:
        def call_service(name: str, params: dict, _task_data: dict) -> dict:
            handler = handlers.HANDLERS.get(name)
            if handler is None:
                raise handlers.context.HandlerError(f"Aucun gestionnaire nommé « {name} » n'est enregistré.")
            return handler(self._handler_context(instance, task_id), **params)

        return CampaignScriptEngine(call_service)


def find_task_rows(session: Session, instance_id: int, state: str = "ready") -> list[TaskRow]:
    """Task rows of an instance in a given state."""
    return list(session.scalars(select(TaskRow).where(TaskRow.instance_id == instance_id, TaskRow.state == state)))
