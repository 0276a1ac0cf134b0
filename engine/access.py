"""Who may see and do what: roles and scopes, checked here and only here (training sessions: `engine.training_access`).

Référents, tuteurs and cotuteurs act within their establishments; a
gestionnaire acts on the tasks routed to their structure and sees the
instances of its territory; process owners see everything and act on nothing
they hold no role for.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from engine.errors import Forbidden, NotFound
from engine.models import (
    Establishment,
    LoginDiscrepancy,
    Person,
    ProcessInstance,
    RoleAssignment,
    Structure,
    TaskRow,
)

if TYPE_CHECKING:
    from engine.runtime.catalogue import ProcessEntry

LANE_ROLES = {
    "referent": ("referent",),
    "tuteur": ("tuteur", "cotuteur"),
    # Who accompanies the volunteer day to day: monthly follow-up, mid-mission review, end-of-mission report.
    "accompagnant": ("tuteur", "cotuteur", "referent"),
    "gestionnaire": ("gestionnaire",),
}


class Grant(NamedTuple):
    """A role assignment as plain values: what a principal is built from without loading ORM objects.

    The structure's fields are None for a role scoped to an establishment.
    """

    role: str
    establishment_id: int | None
    structure_code: str | None = None
    structure_kind: str | None = None
    structure_departments: list[str] | None = None


@dataclass
class Principal:
    """A logged-in person with the scopes of their roles."""

    person_id: int
    name: str
    establishments: dict[str, set[int]] = field(default_factory=dict)
    structures: set[str] = field(default_factory=set)
    national: bool = False
    departments: set[str] = field(default_factory=set)
    process_owner: bool = False

    @classmethod
    def of(cls, person: Person) -> Principal:
        """Build the principal of a person from their role assignments."""
        return cls.from_grants(person.id, person.full_name, (_grant(assignment) for assignment in person.roles))

    @classmethod
    def from_grants(cls, person_id: int, name: str, grants: Iterable[Grant]) -> Principal:
        """Build the principal of a person from their roles as plain values (see `Grant`)."""
        principal = cls(person_id=person_id, name=name)
        for grant in grants:
            if grant.role == "process_owner":
                principal.process_owner = True
            elif grant.role == "gestionnaire" and grant.structure_code is not None:
                principal.structures.add(grant.structure_code)
                principal.national |= grant.structure_kind == "fnogec"
                principal.departments.update(grant.structure_departments or ())
            elif grant.establishment_id is not None:
                principal.establishments.setdefault(grant.role, set()).add(grant.establishment_id)
        return principal

    def establishments_for(self, lane: str | None) -> set[int]:
        """Establishments where this person may act in a lane."""
        ids: set[int] = set()
        for role in LANE_ROLES.get(lane or "", ()):
            ids |= self.establishments.get(role, set())
        return ids

    @property
    def all_establishments(self) -> set[int]:
        """Every establishment where this person holds a role."""
        return set().union(*self.establishments.values()) if self.establishments else set()

    @property
    def is_gestionnaire(self) -> bool:
        """Whether this person manages Service Civique for a structure."""
        return bool(self.structures)

    @property
    def sees_many_instances(self) -> bool:
        """Whether this person follows instances beyond one school (monitoring lists)."""
        return self.process_owner or self.is_gestionnaire


def _grant(assignment: RoleAssignment) -> Grant:
    structure = assignment.structure
    if structure is None:
        return Grant(assignment.role, assignment.establishment_id)
    return Grant(assignment.role, assignment.establishment_id, structure.code, structure.kind, structure.departments)


def can_act(principal: Principal, task: TaskRow) -> bool:
    """Whether the principal may complete a task (one reassigned to someone is theirs alone)."""
    if task.assignee_id is not None and task.assignee_id != principal.person_id:
        return False
    if task.lane == "gestionnaire":
        return task.structure_code in principal.structures
    return task.establishment_id is not None and task.establishment_id in principal.establishments_for(task.lane)


def require_act(principal: Principal, task: TaskRow) -> None:
    """Raise `Forbidden` unless the principal may complete the task."""
    if not can_act(principal, task):
        raise Forbidden("Cette tâche ne vous est pas attribuée.")


def inbox_filter(principal: Principal):
    """SQL condition selecting the tasks a principal may complete."""
    clauses = []
    for lane in (lane for lane in LANE_ROLES if lane != "gestionnaire"):
        ids = principal.establishments_for(lane)
        if ids:
            clauses.append(and_(TaskRow.lane == lane, TaskRow.establishment_id.in_(ids)))
    if principal.structures:
        clauses.append(and_(TaskRow.lane == "gestionnaire", TaskRow.structure_code.in_(principal.structures)))
    if not clauses:
        return false()
    return and_(or_(*clauses), or_(TaskRow.assignee_id.is_(None), TaskRow.assignee_id == principal.person_id))


def instance_filter(principal: Principal):
    """SQL condition selecting the instances a principal may see."""
    if principal.process_owner or principal.national:
        return ProcessInstance.id.is_not(None)
    return _in_scope(principal, ProcessInstance.establishment_id, ProcessInstance.department,
                     ProcessInstance.structure_code.in_(principal.structures))


def task_instance_filter(principal: Principal):
    """SQL condition selecting the tasks of the instances a principal may see (those of `instance_filter`).

    A task row carries its instance's establishment and department, which never change once the instance is
    started: counting a territory's tasks then reads no instance row, but those of the principal's structures.
    """
    if principal.process_owner or principal.national:
        return TaskRow.id.is_not(None)
    return _in_scope(principal, TaskRow.establishment_id, TaskRow.department, TaskRow.instance_id.in_(
        select(ProcessInstance.id).where(ProcessInstance.structure_code.in_(principal.structures))))


def _in_scope(principal: Principal, establishment_id, department, of_structures):
    clauses = []
    if principal.all_establishments:
        clauses.append(establishment_id.in_(principal.all_establishments))
    if principal.departments:
        clauses.append(department.in_(principal.departments))
    if principal.structures:
        clauses.append(of_structures)
    return or_(*clauses) if clauses else false()


def can_view(session: Session, principal: Principal, instance: ProcessInstance) -> bool:
    """Whether the principal may see an instance."""
    found = session.scalar(
        select(ProcessInstance.id).where(ProcessInstance.id == instance.id, instance_filter(principal))
    )
    return found is not None


# A resource addressed by its number answers the same when it is missing and when it lies outside one's scope:
# its address reveals nothing of what exists.
UNSEEN_DOSSIER = "Ce dossier n'existe pas, ou ne relève pas de votre périmètre."
UNSEEN_DOCUMENT = "Ce document n'existe pas, ou ne relève pas de votre périmètre."
UNSEEN_ESTABLISHMENT = "Cet établissement n'existe pas, ou ne relève pas de votre périmètre."
UNSEEN_TRAINING = "Cette session de formation n'existe pas, ou ne relève pas de votre périmètre."


def require_view(session: Session, principal: Principal, instance: ProcessInstance) -> None:
    """Raise `NotFound` unless the principal may see the instance (as if it did not exist)."""
    if not can_view(session, principal, instance):
        raise NotFound(UNSEEN_DOSSIER)


def visible_instance(session: Session, principal: Principal, instance_id: int) -> ProcessInstance:
    """The instance numbered `instance_id`, if the principal may see it; `NotFound` alike when missing or not."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(UNSEEN_DOSSIER)
    require_view(session, principal, instance)
    return instance


def can_start(principal: Principal, entry: ProcessEntry | None, establishment: Establishment | None,
              structure: Structure | None) -> bool:
    """Whether the principal may start a catalogue process about an establishment, a structure or nothing.

    One of the roles of the entry's `startableBy` must reach the subject: référents, tuteurs and cotuteurs
    their establishments; gestionnaires their structures and the establishments of their territory; process
    owners everything. A process about nothing needs the role anywhere; a process nobody starts (None, or no
    `startableBy`) is refused.
    """
    if entry is None or not entry.startable or not _subject_given(entry.subject, establishment, structure):
        return False
    return any(_role_reaches(principal, role, establishment, structure) for role in entry.startable_by)


def _subject_given(subject: str, establishment: Establishment | None, structure: Structure | None) -> bool:
    """Whether the start names exactly the kind of subject the process is about."""
    wanted = {"establishment": (True, False), "structure": (False, True), "none": (False, False)}.get(subject)
    return wanted == (establishment is not None, structure is not None)


def _role_reaches(principal: Principal, role: str, establishment: Establishment | None,
                  structure: Structure | None) -> bool:
    """Whether the principal holds a role whose scope covers the subject (or anywhere, without a subject)."""
    if role == "process_owner":
        return principal.process_owner
    if role == "gestionnaire":
        if establishment is not None:
            return principal.is_gestionnaire and (principal.national
                                                  or establishment.department in principal.departments)
        if structure is not None:
            return structure.code in principal.structures
        return principal.is_gestionnaire
    held = principal.establishments.get(role, set())
    if establishment is not None:
        return establishment.id in held
    return structure is None and bool(held)


def viewable_establishments(principal: Principal):
    """SQL condition on establishments a principal may see."""
    if principal.process_owner or principal.national:
        return Establishment.id.is_not(None)
    clauses = []
    if principal.all_establishments:
        clauses.append(Establishment.id.in_(principal.all_establishments))
    if principal.departments:
        clauses.append(Establishment.department.in_(principal.departments))
    return or_(*clauses) if clauses else false()


def require_view_establishment(session: Session, principal: Principal, establishment: Establishment) -> None:
    """Raise `NotFound` unless the principal may see an establishment's school file (as if it did not exist)."""
    found = session.scalar(select(Establishment.id).where(Establishment.id == establishment.id,
                                                           viewable_establishments(principal)))
    if found is None:
        raise NotFound(UNSEEN_ESTABLISHMENT)


def require_process_owner(principal: Principal) -> None:
    """Raise `Forbidden` unless the principal is a process owner (incidents, administration)."""
    if not principal.process_owner:
        raise Forbidden("Seuls les responsables de processus peuvent faire cette action.")


# Operations on an instance that gestionnaires may also do within their territory (`timer`: fire a waiting
# timer now or move its due time); the others (retrying an incident after a technical fix, moving instances to
# another version) are for process owners only.
TERRITORY_OPERATIONS = frozenset({"suspend", "resume", "terminate", "reassign", "timer"})


def can_monitor(principal: Principal) -> bool:
    """Whether the principal follows the dashboard: process owners (everything), gestionnaires (their territory)."""
    return principal.process_owner or principal.is_gestionnaire


def require_monitor(principal: Principal) -> None:
    """Raise `Forbidden` unless the principal may follow the dashboard."""
    if not can_monitor(principal):
        raise Forbidden("Le suivi des dossiers est réservé aux gestionnaires et aux responsables de processus.")


def can_operate(principal: Principal, instance: ProcessInstance, operation: str) -> bool:
    """Whether the principal may do an operation (suspend, resume, terminate, reassign, timer, retry, migrate)."""
    if principal.process_owner:
        return True
    if operation not in TERRITORY_OPERATIONS or not principal.is_gestionnaire:
        return False
    return (principal.national or instance.department in principal.departments
            or instance.structure_code in principal.structures)


def require_operate(principal: Principal, instance: ProcessInstance, operation: str) -> None:
    """Raise `Forbidden` unless the principal may do the operation on the instance."""
    if not can_operate(principal, instance, operation):
        if operation in TERRITORY_OPERATIONS:
            raise Forbidden("Seuls les responsables de processus et les gestionnaires du territoire du dossier "
                            "peuvent faire cette action.")
        raise Forbidden("Seuls les responsables de processus peuvent faire cette action.")


def can_administer(principal: Principal) -> bool:
    """Whether the principal administers the platform: campaigns and directory imports (process owners)."""
    return principal.process_owner


def can_reopen_submission(principal: Principal, establishment: Establishment) -> bool:
    """Whether the principal may let a school submit after the deadline: a gestionnaire of its territory."""
    return principal.is_gestionnaire and (principal.national or establishment.department in principal.departments)


def can_name_referent(principal: Principal, establishment: Establishment) -> bool:
    """Whether the principal may name another référent of an establishment: one of its référents."""
    return establishment.id in principal.establishments.get("referent", set())


def can_see_login_discrepancies(principal: Principal) -> bool:
    """Whether the principal follows differences between Isidoor's claims and the directory: gestionnaires, owners."""
    return principal.is_gestionnaire or principal.process_owner


def require_see_login_discrepancies(principal: Principal) -> None:
    """Raise `Forbidden` unless the principal is a gestionnaire or a process owner."""
    if not can_see_login_discrepancies(principal):
        raise Forbidden("Seuls les gestionnaires et les responsables de processus suivent les écarts avec Isidoor.")


def login_discrepancy_filter(principal: Principal):
    """SQL condition on the login discrepancies a principal may see: those of their territory or structure."""
    if principal.process_owner or principal.national:
        return LoginDiscrepancy.id.is_not(None)
    clauses = []
    if principal.departments:
        clauses.append(LoginDiscrepancy.department.in_(principal.departments))
    if principal.structures:
        clauses.append(LoginDiscrepancy.structure_code.in_(principal.structures))
    return or_(*clauses) if clauses else false()


def can_end_mission(principal: Principal, mission) -> bool:
    """Whether the principal may end a volunteer's mission early: a référent of its school, or a
    gestionnaire of the structure that manages its contract."""
    return (mission.establishment_id in principal.establishments.get("referent", set())
            or (mission.structure_code is not None and mission.structure_code in principal.structures))
