"""Steering running instances: retry an incident, suspend and resume, terminate, reassign a task, migrate.

Process owners may do all of it; gestionnaires suspend, resume, terminate and
reassign within their territory (see `engine.access.can_operate`). Every
operation checks role and scope, refuses with a French message what the
instance's state does not allow, writes an audit event and commits once.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from engine.access import LANE_ROLES, Principal, require_operate
from engine.campaign.owned import close_owned
from engine.errors import CONCURRENT_CHANGE, Conflict, FieldError, NotFound, Refusal, rolls_back
from engine.mail import Mailer, task_link
from engine.models import AuditEvent, Deployment, Person, ProcessInstance, RoleAssignment, Structure, TaskRow, Timer
from engine.models.directory import ROLE_LABELS
from engine.models.runtime import FINISHED_STATUSES
from engine.ops.version_migration import MigrationOutcome, migrate_state, refusal_reasons
from engine.runtime.deployment import bundle_for
from engine.runtime.drafts import discard_drafts
from engine.runtime.runtime import ProcessRuntime
from engine.runtime.store import LoadedWorkflow

REASON_MAX = 500


class OperationRefused(Refusal):
    """The input of an operation is not acceptable; the message says why, in French, `field` which input."""

    status = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field

    def details(self) -> list[FieldError]:
        """The input at fault, as the API names it."""
        return [{"field": self.field, "message": self.message}]


@dataclass
class Candidate:
    """Someone who may do a task: the person, the role they would act in, and their structure if gestionnaire."""

    person: Person
    role: str
    structure_code: str | None = None
    structure_name: str | None = None

    @property
    def label(self) -> str:
        """Name, role and structure, as choice lists show them."""
        where = f" — {self.structure_name or self.structure_code}" if self.structure_code else ""
        return f"{self.person.full_name} ({ROLE_LABELS.get(self.role, self.role).lower()}{where})"


def checked_reason(reason: str | None, what: str) -> str:
    """A reason given for an operation, trimmed; refused when empty or too long."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise OperationRefused(f"Indiquez le motif de {what}.", "reason")
    if len(text) > REASON_MAX:
        raise OperationRefused(f"Le motif ne doit pas dépasser {REASON_MAX} caractères.", "reason")
    return text


def eligible_people(session, row: TaskRow) -> list[Candidate]:
    """Active people who may do a task: its lane's roles in its establishment, or gestionnaires covering it.

    A gestionnaire task may go to any structure covering the instance's
    department (the Udogec, the Urogec, the Fnogec); a training's tasks stay
    with its organising structure.
    """
    if row.lane == "gestionnaire":
        # One query for every gestionnaire; which structures cover the department is read from their JSON list.
        found = session.execute(
            select(Person, Structure).join(RoleAssignment, RoleAssignment.person_id == Person.id)
            .join(Structure, Structure.id == RoleAssignment.structure_id)
            .where(RoleAssignment.role == "gestionnaire", Person.active.is_(True))
            .order_by(Person.last_name, Person.first_name, Structure.code)).all()
        return [Candidate(person, "gestionnaire", structure.code, structure.name) for person, structure in found
                if (structure.covers(row.department) if row.department else structure.code == row.structure_code)]
    roles = LANE_ROLES.get(row.lane or "", ())
    if not roles or row.establishment_id is None:
        return []
    found = session.execute(
        select(Person, RoleAssignment.role).join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(RoleAssignment.role.in_(roles), RoleAssignment.establishment_id == row.establishment_id,
               Person.active.is_(True))
        .order_by(Person.last_name, Person.first_name)).all()
    seen: dict[int, Candidate] = {}
    for person, role in found:
        seen.setdefault(person.id, Candidate(person, role))
    return list(seen.values())


class InstanceOperations(ProcessRuntime):
    """The process runtime with the operations of process owners and gestionnaires on instances."""

    def instance(self, instance_id: int) -> ProcessInstance:
        """An instance by id; `NotFound` otherwise."""
        instance = self.session.get(ProcessInstance, instance_id)
        if instance is None:
            raise NotFound("Ce dossier n'existe pas.")
        return instance

    @rolls_back
    def retry_incident(self, instance: ProcessInstance, principal: Principal) -> ProcessInstance:
        """Run again the failed step of an instance in incident, after its cause was fixed."""
        require_operate(principal, instance, "retry")
        if instance.status != "incident":
            raise Conflict("Ce dossier n'est pas en incident : il n'y a rien à relancer.")
        return self.retry(instance, principal)

    def repair_ended_paths(self, instance: ProcessInstance, principal: Principal) -> int:
        """Merge the ended paths a dossier waits on for nothing and run it on (process owners); return how many."""
        require_operate(principal, instance, "retry")
        merged = self.rejoin_ended_paths(instance, principal)
        if not merged:
            raise Conflict("Ce dossier n'attend aucun parcours terminé : il n'y a rien à rattacher.")
        return merged

    @rolls_back
    def suspend(self, instance: ProcessInstance, principal: Principal, reason: str | None) -> ProcessInstance:
        """Stop an instance: its tasks leave the inboxes and its timers wait, until it is resumed."""
        require_operate(principal, instance, "suspend")
        reason = checked_reason(reason, "la suspension")
        if instance.status not in ("running", "incident"):
            raise Conflict("Seul un dossier en cours ou en incident peut être suspendu.")
        instance.status = "suspended"
        instance.updated_at = self.clock()
        # The timer worker finds due timers by their rows: without rows, nothing fires while suspended.
        self.session.execute(delete(Timer).where(Timer.instance_id == instance.id)
                             .execution_options(synchronize_session=False))
        self._audit(instance, "suspended", f"Suspension : {reason}", principal, {"reason": reason})
        self._commit(instance)
        return instance

    @rolls_back
    def resume(self, instance: ProcessInstance, principal: Principal) -> ProcessInstance:
        """Give a suspended instance back its tasks and timers (a timer due meanwhile fires at once)."""
        require_operate(principal, instance, "resume")
        if instance.status != "suspended":
            raise Conflict("Ce dossier n'est pas suspendu.")
        loaded = self.load(instance)
        instance.status = "incident" if instance.incident else "running"
        instance.updated_at = self.clock()
        self.instances.restore_timers(instance, loaded.workflow)
        self._audit(instance, "resumed", "Reprise du dossier", principal, None)
        self._commit(instance)
        return instance

    @rolls_back
    def terminate(self, instance: ProcessInstance, principal: Principal, reason: str | None) -> ProcessInstance:
        """End an instance for good: every open task is cancelled and the instance is *interrompu*."""
        require_operate(principal, instance, "terminate")
        reason = checked_reason(reason, "l'interruption")
        if instance.status in FINISHED_STATUSES:
            raise Conflict("Ce dossier est déjà terminé.")
        loaded = self.load(instance)
        loaded.workflow.cancel()
        instance.incident = None
        instance.incident_node = None
        close_owned(self.session, instance, reason, self.clock())
        self._audit(instance, "terminated", f"Interruption : {reason}", principal, {"reason": reason})
        self.instances.save(loaded, instance, principal)
        return instance

    @rolls_back
    def reassign(self, task_id: str, principal: Principal, person_id: int | None) -> TaskRow:
        """Give a ready task to one eligible person, or back to everyone of its lane (`person_id` None)."""
        row = self.session.get(TaskRow, task_id)
        if row is None:
            raise NotFound("Cette tâche n'existe pas.")
        instance = row.instance
        require_operate(principal, instance, "reassign")
        if row.state != "ready":
            raise Conflict("Cette tâche a déjà été traitée : elle ne peut plus être confiée à quelqu'un d'autre.")
        previous = self.session.get(Person, row.assignee_id) if row.assignee_id else None
        if person_id is None:
            if previous is None:
                raise OperationRefused("Cette tâche n'est confiée à personne en particulier.", "person_id")
            row.assignee_id = None
            summary, target = f"{row.title} : rendue à toutes les personnes habilitées", None
        else:
            candidate = next((c for c in eligible_people(self.session, row) if c.person.id == person_id), None)
            if candidate is None:
                raise OperationRefused("Cette personne ne peut pas faire cette tâche : choisissez quelqu'un qui a "
                                       "le rôle voulu dans l'établissement ou le territoire du dossier.", "person_id")
            if previous is not None and previous.id == person_id:
                raise OperationRefused(f"Cette tâche est déjà confiée à {previous.full_name}.", "person_id")
            row.assignee_id = person_id
            if candidate.structure_code is not None:
                row.structure_code = candidate.structure_code
            summary, target = f"{row.title} : confiée à {candidate.person.full_name}", candidate.person
            if target.email:
                Mailer(self.session, instance.id, self.clock).send(
                    target.email, f"Tâche à faire : {row.title}",
                    f"Bonjour,\n\nLa tâche « {row.title} » du dossier « {instance.title} » vous a été confiée "
                    f"par {principal.name}.\n", link=task_link(row.id))
        # Drafts belong to whoever was to do the task: only the new assignee keeps theirs.
        discard_drafts(self.session, [row], keep_person_id=target.id if target else None)
        # Touching the instance bumps its version: a completion of this task meanwhile gets a conflict.
        instance.updated_at = self.clock()
        self._audit(instance, "reassigned", summary, principal, {
            "task": row.spec_id, "from": previous.full_name if previous else None,
            "to": target.full_name if target else None})
        self._commit(instance)
        return row

    @rolls_back
    def migrate(self, instance: ProcessInstance, principal: Principal, target: Deployment) -> MigrationOutcome:
        """Move one instance to a newer version when compatible, and commit; otherwise say exactly why not."""
        require_operate(principal, instance, "migrate")
        outcome = MigrationOutcome(instance.id, instance.title, False, from_version=instance.deployment_id,
                                   to_version=target.id)
        outcome.reasons = refusal_reasons(instance, None, target, None)
        if outcome.reasons:
            return outcome
        workflow = self.load(instance).workflow
        new_bundle = bundle_for(target)
        outcome.reasons = refusal_reasons(instance, workflow, target, new_bundle)
        if outcome.reasons:
            return outcome
        try:
            migrated = migrate_state(workflow, instance, new_bundle)
        except Exception as error:  # any failure of the engine's own migration leaves the instance as it was
            outcome.reasons = [f"L'état du dossier n'a pas pu être transposé dans la version {target.id} : {error}"]
            return outcome
        migrated.script_engine = workflow.script_engine
        instance.deployment_id = target.id
        instance.deployment = target
        self._refresh_ready_rows(instance, migrated, new_bundle)
        self._audit(instance, "migrated", f"Migration de la version {outcome.from_version} à la version {target.id}",
                    principal, {"from": outcome.from_version, "to": target.id})
        self.instances.save(LoadedWorkflow(migrated, new_bundle), instance, principal)
        outcome.migrated = True
        return outcome

    def _refresh_ready_rows(self, instance: ProcessInstance, workflow, bundle) -> None:
        # The same tasks wait, but their label or lane may have changed in the new diagram.
        tasks = {str(task.id): task for task in workflow.get_tasks()}
        for row in self.session.scalars(select(TaskRow).where(TaskRow.instance_id == instance.id,
                                                              TaskRow.state == "ready")):
            task = tasks.get(row.id)
            if task is not None:
                row.title = task.task_spec.bpmn_name or task.task_spec.bpmn_id
                row.lane = bundle.lane_of(task.workflow.spec.name, task.task_spec.bpmn_id)

    def _audit(self, instance: ProcessInstance, kind: str, summary: str, principal: Principal,
               data: dict | None) -> None:
        self.session.add(AuditEvent(instance_id=instance.id, kind=kind, summary=summary[:500],
                                    actor_id=principal.person_id, data=data, at=self.clock()))

    def _commit(self, instance: ProcessInstance) -> None:
        try:
            self.session.commit()
        except (StaleDataError, OperationalError) as error:
            self.session.rollback()
            if isinstance(error, OperationalError) and "locked" not in str(error).lower():
                raise
            raise Conflict(CONCURRENT_CHANGE) from error
