"""Volunteers' personal data (GDPR): who read it, a person's export, anonymisation after retention.

Volunteers do not log in; their personal data enter through the forms of the
deployed version an instance runs on, in the fields marked `x-personal`, and
through what service tasks derive from them (contract, invitations): see
`engine.campaign.personal_marks`, which reads those marks once per version.
"""
from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import date, datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from engine.access import Principal
from engine.campaign.personal_marks import PersonalData, personal_data_of
from engine.campaign.retention import DEFAULT, expiry
from engine.documents import DocumentStore
from engine.models import (
    ApiToken,
    AuditEvent,
    Deployment,
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
# Anonymising an instance at once, or only the fields whose retention has run out (others are kept longer).
ANONYMISED, PARTLY_ANONYMISED = "anonymised", "anonymised_part"


def holds_volunteer_data(session: Session, instance: ProcessInstance) -> bool:
    """Whether an instance holds personal data of volunteers (a task revealing them was completed)."""
    revealing = personal_data_of(instance.deployment).revealing_tasks
    return bool(revealing) and bool(session.scalar(select(exists().where(
        AuditEvent.instance_id == instance.id, AuditEvent.kind == "completed",
        AuditEvent.spec_id.in_(revealing)))))


def record_access(session: Session, principal: Principal, instance: ProcessInstance, resource: str, channel: str,
                  now: datetime) -> bool:
    """Log that a gestionnaire or process owner read an instance holding volunteer data; commit."""
    if not principal.sees_many_instances or not holds_volunteer_data(session, instance):
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


def _redact_fields(data: dict, fields: Collection[str]) -> dict:
    return {name: redact(value) if name in fields else value for name, value in data.items()}


def redact_state(node, fields_by_variable: Mapping[str, Collection[str]]):
    """Copy of engine state (any JSON value) with the given fields of the given variables redacted."""
    if isinstance(node, list):
        return [redact_state(item, fields_by_variable) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {}
    for key, value in node.items():
        value = redact_state(value, fields_by_variable)
        if key in fields_by_variable and isinstance(value, dict):
            value = _redact_fields(value, fields_by_variable[key])
        copy[key] = value
    return copy


def _due(places: Mapping[str, Mapping[str, str]], retentions: Collection[str]) -> dict[str, set[str]]:
    """The fields of each place (task, variable) whose retention is one of `retentions`."""
    due = {place: {name for name, retention in fields.items() if retention in retentions}
           for place, fields in places.items()}
    return {place: fields for place, fields in due.items() if fields}


def anonymise_volunteers(session: Session, store: DocumentStore, today: date, default_days: int,
                         now: datetime) -> list[int]:
    """Anonymise the volunteers' data whose retention after the campaign's end has run out; commit; return ids.

    Each field keeps the retention its form declares (`x-personal`); `default_days` is the default rule's. An
    instance whose fields are kept for different periods is anonymised in steps, one audit event each.
    """
    candidates = session.scalars(select(ProcessInstance).where(
        ProcessInstance.campaign.is_not(None), ProcessInstance.campaign <= _last_ended_campaign(today),
        ~exists().where(AuditEvent.instance_id == ProcessInstance.id, AuditEvent.kind == ANONYMISED),
    ).order_by(ProcessInstance.id))
    done = []
    for instance in candidates:
        end = campaign_end(instance.campaign or "")
        if end is None:
            continue
        marks = personal_data_of(instance.deployment)
        applied = _applied_retentions(session, instance.id)
        due = {retention for retention in marks.retentions() - applied if expiry(end, retention, default_days) < today}
        if not due or not holds_volunteer_data(session, instance):
            continue
        _anonymise_instance(session, store, instance, marks, due)
        complete = marks.retentions() <= applied | due
        session.add(AuditEvent(
            instance_id=instance.id, kind=ANONYMISED if complete else PARTLY_ANONYMISED, at=now,
            data={"retentions": sorted(due)},
            summary="Données personnelles des volontaires anonymisées" if complete else
            "Données personnelles des volontaires anonymisées, sauf celles conservées plus longtemps"))
        done.append(instance.id)
    session.commit()
    return done


def _applied_retentions(session: Session, instance_id: int) -> set[str]:
    """Retentions whose fields an earlier step of anonymisation redacted."""
    applied: set[str] = set()
    for data in session.scalars(select(AuditEvent.data).where(AuditEvent.instance_id == instance_id,
                                                              AuditEvent.kind == PARTLY_ANONYMISED)):
        applied.update((data or {}).get("retentions", ()))
    return applied


def _anonymise_instance(session: Session, store: DocumentStore, instance: ProcessInstance, marks: PersonalData,
                        retentions: Collection[str]) -> None:
    by_task = _due(marks.by_task, retentions)
    for event in session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                         AuditEvent.spec_id.in_(by_task))):
        # The query keeps only events of those tasks: spec_id is never None here.
        if event.data and event.spec_id is not None:
            event.data = _redact_fields(event.data, by_task[event.spec_id])
    # The form sent with a message (the early end of a mission) is kept by an event of no task.
    event_fields = {name for name, retention in marks.event_fields.items() if retention in retentions}
    if event_fields:
        for event in session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                             AuditEvent.kind == "event")):
            if event.data:
                event.data = _redact_fields(event.data, event_fields)
    # The state is rewritten as text: its shape is unchanged, so the instance still loads.
    by_variable = _due(marks.by_variable, retentions)
    write_state(session, instance, json.dumps(redact_state(json.loads(instance.state), by_variable)))
    kinds = [kind for kind, retention in marks.documents.items() if retention in retentions]
    for document in session.scalars(select(Document).where(Document.instance_id == instance.id,
                                                           Document.kind.in_(kinds))):
        store.path_of(document).unlink(missing_ok=True)
        session.delete(document)
    if DEFAULT in retentions:
        _anonymise_derived_rows(session, instance)


def _anonymise_derived_rows(session: Session, instance: ProcessInstance) -> None:
    """The rows handlers filled from the forms (contracts, missions, registrations, invitations): default rule."""
    for contract in session.scalars(select(VolunteerContract).where(VolunteerContract.instance_id == instance.id)):
        contract.first_name, contract.last_name, contract.birth_date, contract.email = REDACTED, REDACTED, "", None
    for mission in session.scalars(select(VolunteerMission).where(VolunteerMission.instance_id == instance.id)):
        mission.first_name, mission.last_name, mission.birth_date, mission.email = REDACTED, REDACTED, "", None
        mission.termination_reason = REDACTED if mission.termination_reason else None
        for registration in session.scalars(select(TrainingRegistration)
                                            .where(TrainingRegistration.mission_id == mission.id)):
            registration.name, registration.email = REDACTED, None
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
    # Forms naming the person in a personal email field, as the version each instance runs on declares them.
    in_use = select(ProcessInstance.deployment_id).distinct()
    email_fields = {deployment.id: personal_data_of(deployment).email_fields
                    for deployment in session.scalars(select(Deployment).where(Deployment.id.in_(in_use)))}
    tasks = {task for fields in email_fields.values() for task in fields}
    forms = []
    for event, deployment_id in session.execute(
            select(AuditEvent, ProcessInstance.deployment_id).join(ProcessInstance)
            .where(AuditEvent.spec_id.in_(tasks)).order_by(AuditEvent.at, AuditEvent.id)):
        data = event.data or {}
        fields = email_fields[deployment_id].get(event.spec_id or "", ())
        if any(str(data.get(name, "")).lower() == email for name in fields):
            forms.append({"instance_id": event.instance_id, "task": event.spec_id, "data": data, "at": event.at})
    contracts = [
        {"instance_id": c.instance_id, "first_name": c.first_name, "last_name": c.last_name,
         "birth_date": c.birth_date, "email": c.email, "start_date": c.start_date, "end_date": c.end_date}
        for c in session.scalars(select(VolunteerContract).where(func.lower(VolunteerContract.email) == email))
    ]
    return {"forms": forms, "contracts": contracts}
