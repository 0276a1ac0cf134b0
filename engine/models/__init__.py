"""Persisted models: the directory (who and where) and the runtime (instances, tasks)."""
from engine.models.campaign import Campaign, CampaignReopening
from engine.models.directory import DirectoryImport, Establishment, Person, RoleAssignment, Structure
from engine.models.runtime import (
    AuditEvent,
    Deployment,
    Document,
    Notification,
    ProcessInstance,
    TaskRow,
    VolunteerContract,
)
from engine.models.security import ApiToken, PersonalDataAccess

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Campaign",
    "CampaignReopening",
    "Deployment",
    "DirectoryImport",
    "Document",
    "Establishment",
    "Notification",
    "Person",
    "PersonalDataAccess",
    "ProcessInstance",
    "RoleAssignment",
    "Structure",
    "TaskRow",
    "VolunteerContract",
]
