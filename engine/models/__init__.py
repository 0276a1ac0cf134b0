"""Persisted models: the directory (who and where) and the runtime (instances, tasks)."""
from engine.models.campaign import Campaign, CampaignReopening
from engine.models.directory import (
    DirectoryImport,
    Establishment,
    Ogec,
    Person,
    PupilCount,
    RoleAssignment,
    Structure,
)
from engine.models.follow_up import Timer, TrainingRegistration, TrainingSession, VolunteerMission
from engine.models.runtime import (
    AuditEvent,
    Deployment,
    Document,
    InstanceState,
    Notification,
    ProcessInstance,
    StateChange,
    TaskDraft,
    TaskRow,
    VolunteerContract,
)
from engine.models.scenario_run import ScenarioRun
from engine.models.security import ApiToken, PersonalDataAccess, WebSession
from engine.models.sign_on import LoginDiscrepancy
from engine.models.staging import StagedDeployment
from engine.ops.heartbeat import WorkerHeartbeat

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Campaign",
    "CampaignReopening",
    "Deployment",
    "DirectoryImport",
    "Document",
    "Establishment",
    "InstanceState",
    "LoginDiscrepancy",
    "Notification",
    "Ogec",
    "Person",
    "PersonalDataAccess",
    "ProcessInstance",
    "PupilCount",
    "RoleAssignment",
    "ScenarioRun",
    "StagedDeployment",
    "StateChange",
    "Structure",
    "TaskDraft",
    "TaskRow",
    "Timer",
    "TrainingRegistration",
    "TrainingSession",
    "VolunteerContract",
    "VolunteerMission",
    "WebSession",
    "WorkerHeartbeat",
]
