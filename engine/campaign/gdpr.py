"""Volunteers' personal data (GDPR): who read it, a person's export, anonymisation after retention.

Volunteers do not log in; their personal data enter through the candidate and
volunteer-file forms, the attendance of trainings, and what service tasks
derive from them (contract, invitations). The field lists below follow the
forms of `forms/` and the variables of `docs/processes.md`.
"""
from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from engine.access import Principal
from engine.documents import DocumentStore
from engine.models import (
    ApiToken,
    AuditEvent,
    Document,
    Notification,
    Person,
    PersonalDataAccess,
    ProcessInstance,
    TrainingRegistration,
    VolunteerContract,
    VolunteerMission,
    WebSession,
)
from engine.runtime.store import write_state

REDACTED = "[anonymisé]"
# Personal fields of each user task's form (audit events keep the submitted form).
PERSONAL_FIELDS_BY_TASK = {
    "select_volunteer": ("candidate_first_name", "candidate_last_name", "candidate_email", "candidate_phone"),
    "volunteer_file": ("first_name", "last_name", "birth_date", "birth_place", "nationality_status", "email", "phone",
                       "address", "postal_code", "city", "education_level", "disability", "social_criteria",
                       "social_criteria_proof", "guardian_name", "guardian_phone", "guardian_email", "guardian_address",
                       "guardian_postal_code", "guardian_city", "identity_document"),
    "upload_signed_contract": ("signed_contract", "medical_certificate"),
    "record_attendance": ("absentees",),
}
# Personal fields of the instance variables holding those forms, and of what handlers derive from them.
PERSONAL_FIELDS_BY_VARIABLE = {
    "selection": PERSONAL_FIELDS_BY_TASK["select_volunteer"],
    "volunteer": PERSONAL_FIELDS_BY_TASK["volunteer_file"],
    "attendance": PERSONAL_FIELDS_BY_TASK["record_attendance"],
    "signature": PERSONAL_FIELDS_BY_TASK["upload_signed_contract"],
    "contract": ("filename",),
    "invitations": ("invited",),
}
# Completing one of these tasks puts volunteers' data in the instance (planning a training invites them).
REVEALING_TASKS = (*PERSONAL_FIELDS_BY_TASK, "plan_training")
VOLUNTEER_DOCUMENT_KINDS = ("contract", "identity_document", "social_criteria_proof", "signed_contract", "certificate",
                            "medical_certificate")


def holds_volunteer_data(session: Session, instance_id: int) -> bool:
    """Whether an instance holds personal data of volunteers."""
    return bool(session.scalar(select(exists().where(
        AuditEvent.instance_id == instance_id, AuditEvent.kind == "completed",
        AuditEvent.spec_id.in_(REVEALING_TASKS)))))


def record_access(session: Session, principal: Principal, instance: ProcessInstance, resource: str, channel: str,
                  now: datetime) -> bool:
    """Log that a gestionnaire or process owner read an instance holding volunteer data; commit."""
    if not principal.sees_many_instances or not holds_volunteer_data(session, instance.id):
        return False
    session.add(PersonalDataAccess(person_id=principal.person_id, instance_id=instance.id, resource=resource,
                                   channel=channel, at=now))
    session.commit()
    return True


def campaign_end(campaign: str) -> date | None:
    """Last day of a campaign's school year ("2027-2028" ends on 31 August 2028)."""
    try:
        return date(int(campaign.split("-")[1]), 8, 31)
    except (IndexError, ValueError):
        return None


def _last_ended_campaign(cutoff: date) -> str:
    end_year = cutoff.year if cutoff > date(cutoff.year, 8, 31) else cutoff.year - 1
    return f"{end_year - 1}-{end_year}"


def redact(value):
    """What replaces a personal value: a marker for text, nothing for other types."""
    if isinstance(value, str):
        return REDACTED
    if isinstance(value, list):
        return []
    return None


def _redact_fields(data: dict, fields) -> dict:
    return {name: redact(value) if name in fields else value for name, value in data.items()}


def redact_state(node):
    """Copy of engine state (any JSON value) with the personal fields of known variables redacted."""
    if isinstance(node, list):
        return [redact_state(item) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {}
    for key, value in node.items():
        value = redact_state(value)
        if key in PERSONAL_FIELDS_BY_VARIABLE and isinstance(value, dict):
            value = _redact_fields(value, PERSONAL_FIELDS_BY_VARIABLE[key])
        copy[key] = value
    return copy


def anonymise_volunteers(session: Session, store: DocumentStore, cutoff: date, now: datetime) -> list[int]:
    """Anonymise volunteers' data of instances whose campaign ended before `cutoff`; commit; return their ids."""
    candidates = session.scalars(select(ProcessInstance).where(
        ProcessInstance.campaign.is_not(None), ProcessInstance.campaign <= _last_ended_campaign(cutoff),
        ~exists().where(AuditEvent.instance_id == ProcessInstance.id, AuditEvent.kind == "anonymised"),
    ).order_by(ProcessInstance.id))
    done = []
    for instance in candidates:
        end = campaign_end(instance.campaign or "")
        if end is None or end >= cutoff or not holds_volunteer_data(session, instance.id):
            continue
        _anonymise_instance(session, store, instance)
        session.add(AuditEvent(instance_id=instance.id, kind="anonymised", at=now,
                               summary="Données personnelles des volontaires anonymisées"))
        done.append(instance.id)
    session.commit()
    return done


def _anonymise_instance(session: Session, store: DocumentStore, instance: ProcessInstance) -> None:
    for event in session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                         AuditEvent.spec_id.in_(PERSONAL_FIELDS_BY_TASK))):
        # The query keeps only events of those tasks: spec_id is never None here.
        if event.data and event.spec_id is not None:
            event.data = _redact_fields(event.data, PERSONAL_FIELDS_BY_TASK[event.spec_id])
    # The state is rewritten as text: its shape is unchanged, so the instance still loads.
    write_state(session, instance, json.dumps(redact_state(json.loads(instance.state))))
    for contract in session.scalars(select(VolunteerContract).where(VolunteerContract.instance_id == instance.id)):
        contract.first_name, contract.last_name, contract.birth_date, contract.email = REDACTED, REDACTED, "", None
    for mission in session.scalars(select(VolunteerMission).where(VolunteerMission.instance_id == instance.id)):
        mission.first_name, mission.last_name, mission.birth_date, mission.email = REDACTED, REDACTED, "", None
        mission.termination_reason = REDACTED if mission.termination_reason else None
        for registration in session.scalars(select(TrainingRegistration)
                                            .where(TrainingRegistration.mission_id == mission.id)):
            registration.name, registration.email = REDACTED, None
    for document in session.scalars(select(Document).where(Document.instance_id == instance.id,
                                                           Document.kind.in_(VOLUNTEER_DOCUMENT_KINDS))):
        store.path_of(document).unlink(missing_ok=True)
        session.delete(document)
    # Messages to people outside the directory went to volunteers (invitations); users keep theirs.
    directory_emails = select(func.lower(Person.email)).where(Person.email.is_not(None))
    for notification in session.scalars(select(Notification).where(
            Notification.instance_id == instance.id, func.lower(Notification.recipient).not_in(directory_emails))):
        notification.recipient = REDACTED


def export_person(session: Session, identifier: str, now: datetime) -> dict | None:
    """Everything the platform holds about a person (a user by login or email, or a volunteer by email)."""
    key = identifier.strip().lower()
    person = session.scalar(select(Person).where(or_(func.lower(Person.login) == key, func.lower(Person.email) == key)))
    email = (person.email or "").lower() if person is not None else key
    export: dict = {"identifier": identifier, "exported_at": now.isoformat(timespec="seconds")}
    if person is not None:
        export["person"] = _person_record(session, person)
    export["notifications"] = [
        {"instance_id": n.instance_id, "subject": n.subject, "body": n.body, "created_at": n.created_at,
         "sent_at": n.sent_at}
        for n in session.scalars(select(Notification).where(func.lower(Notification.recipient) == email)
                                 .order_by(Notification.id))
    ] if email else []
    export["volunteer"] = _volunteer_records(session, email) if email else {"forms": [], "contracts": []}
    found = person is not None or export["notifications"] or any(export["volunteer"].values())
    return export if found else None


def _person_record(session: Session, person: Person) -> dict:
    return {
        "login": person.login, "isidoor_id": person.isidoor_id, "gabriel_id": person.gabriel_id,
        "first_name": person.first_name, "last_name": person.last_name, "email": person.email,
        "phone": person.phone, "active": person.active, "last_login_at": person.last_login_at,
        "roles": [{"role": r.role, "establishment": r.establishment.uai if r.establishment else None,
                   "structure": r.structure.code if r.structure else None} for r in person.roles],
        "actions": [
            {"instance_id": e.instance_id, "kind": e.kind, "task": e.spec_id, "summary": e.summary, "data": e.data,
             "at": e.at}
            for e in session.scalars(select(AuditEvent).where(AuditEvent.actor_id == person.id)
                                     .order_by(AuditEvent.at, AuditEvent.id))
        ],
        "personal_data_reads": [
            {"instance_id": a.instance_id, "resource": a.resource, "channel": a.channel, "at": a.at}
            for a in session.scalars(select(PersonalDataAccess).where(PersonalDataAccess.person_id == person.id)
                                     .order_by(PersonalDataAccess.at))
        ],
        "api_tokens": [
            {"created_at": t.created_at, "expires_at": t.expires_at, "revoked_at": t.revoked_at}
            for t in session.scalars(select(ApiToken).where(ApiToken.person_id == person.id).order_by(ApiToken.id))
        ],
        "web_sessions": [
            {"created_at": s.created_at, "last_seen_at": s.last_seen_at, "ended_at": s.ended_at,
             "end_reason": s.end_reason, "address": s.address, "user_agent": s.user_agent}
            for s in session.scalars(select(WebSession).where(WebSession.person_id == person.id)
                                     .order_by(WebSession.created_at))
        ],
    }


def _volunteer_records(session: Session, email: str) -> dict:
    forms = []
    for event in session.scalars(select(AuditEvent).where(AuditEvent.spec_id.in_(("select_volunteer",
                                                                                  "volunteer_file")))
                                 .order_by(AuditEvent.at, AuditEvent.id)):
        data = event.data or {}
        if email in (str(data.get("email", "")).lower(), str(data.get("candidate_email", "")).lower()):
            forms.append({"instance_id": event.instance_id, "task": event.spec_id, "data": data, "at": event.at})
    contracts = [
        {"instance_id": c.instance_id, "first_name": c.first_name, "last_name": c.last_name,
         "birth_date": c.birth_date, "email": c.email, "start_date": c.start_date, "end_date": c.end_date}
        for c in session.scalars(select(VolunteerContract).where(func.lower(VolunteerContract.email) == email))
    ]
    return {"forms": forms, "contracts": contracts}
