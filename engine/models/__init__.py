"""Persisted models: the directory (who and where) and the runtime (instances, tasks)."""
from engine.models.directory import Establishment, Person, RoleAssignment, Structure
from engine.models.runtime import (
    AuditEvent,
    Deployment,
    Document,
    Notification,
    ProcessInstance,
    TaskRow,
    VolunteerContract,
)

__all__ = [
    "AuditEvent",
    "Deployment",
    "Document",
    "Establishment",
    "Notification",
    "Person",
    "ProcessInstance",
    "RoleAssignment",
    "Structure",
    "TaskRow",
    "VolunteerContract",
]
