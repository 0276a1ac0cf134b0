"""Volunteers' personal data: reads logged, a person's export, anonymisation after the campaign, as the forms mark it."""
from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from engine.campaign.gdpr import anonymise_volunteers
from engine.campaign.trainings import record_attendance, register
from engine.documents import DocumentStore
from engine.models import (
    AuditEvent,
    Deployment,
    Document,
    Establishment,
    Notification,
    PersonalDataAccess,
    ProcessInstance,
    Structure,
    TaskRow,
    TrainingRegistration,
    TrainingSession,
    VolunteerContract,
    VolunteerMission,
)
from engine.runtime.deployment import deploy, read_definition_files
from webapp.config import settings_of

from conftest import ROOT, SAMPLES, principal_of

STEPS = [("referent.rennes", "design_project"), ("gestionnaire.udogec35", "review_project"),
         ("referent.rennes", "publish_offer"), ("referent.rennes", "select_volunteer"),
         ("tuteur.rennes", "confirm_selection"), ("referent.rennes", "volunteer_file"),
         ("gestionnaire.udogec35", "draw_up_contract"), ("referent.rennes", "upload_signed_contract"),
         ("gestionnaire.udogec35", "confirm_contract")]


OTHER_VOLUNTEER = {"first_name": "Hugo", "last_name": "Petit", "email": "hugo.petit@example.fr"}


def run_project(runtime, session, campaign: str, steps=STEPS, volunteer: dict | None = None) -> ProcessInstance:
    """A Rennes project of a campaign taken through the given steps (with another volunteer if given)."""
    rennes = session.scalar(select(Establishment).where(Establishment.uai == "0350781J"))
    instance = runtime.start("hosting_project", principal_of(session, "referent.rennes"), establishment=rennes,
                             campaign=campaign)
    for login, spec in steps:
        row = session.scalar(select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready",
                                                   TaskRow.spec_id == spec))
        data = {**SAMPLES[spec], **(volunteer or {})} if spec == "volunteer_file" else SAMPLES[spec]
        runtime.complete(row.id, principal_of(session, login), data)
    return instance


def reads(session) -> list[tuple[str, str, str]]:
    from engine.models import Person

    rows = session.execute(select(Person.login, PersonalDataAccess.resource, PersonalDataAccess.channel)
                           .join(Person, Person.id == PersonalDataAccess.person_id).order_by(PersonalDataAccess.id))
    return [tuple(row) for row in rows]


def test_reads_by_gestionnaires_and_process_owners_are_logged(runtime, session, browser, api):
    instance = run_project(runtime, session, "2027-2028", STEPS[:4])
    without_volunteer = run_project(runtime, session, "2026-2027", STEPS[:1])
    browser.login("gestionnaire.udogec35")
    assert browser.client.get(f"/dossiers/{instance.id}").status_code == 200
    assert browser.client.get(f"/dossiers/{without_volunteer.id}").status_code == 200
    browser.logout()
    browser.login("referent.rennes")
    assert browser.client.get(f"/dossiers/{instance.id}").status_code == 200
    assert api.get(f"/api/v1/instances/{instance.id}", "pilote").status_code == 200
    assert api.get(f"/api/v1/instances/{instance.id}", "tuteur.rennes").status_code == 200
    assert reads(session) == [("gestionnaire.udogec35", "dossier", "web"), ("pilote", "dossier", "api")]


def test_document_downloads_are_logged(runtime, session, api):
    instance = run_project(runtime, session, "2027-2028")
    documents = api.get(f"/api/v1/instances/{instance.id}/documents", "gestionnaire.urogec").json["items"]
    document = next(item for item in documents if item["kind"] == "contract")
    download = api.get(document["url"], "gestionnaire.urogec")
    assert download.status_code == 200
    download.close()
    assert reads(session) == [("gestionnaire.urogec", "documents", "api"), ("gestionnaire.urogec", "document", "api")]


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


def test_export_of_a_volunteer_and_of_a_user(runtime, session, cli, api, browser):
    instance = run_project(runtime, session, "2027-2028")
    api.get(f"/api/v1/instances/{instance.id}", "gestionnaire.udogec35")
    browser.login("gestionnaire.udogec35")
    result = cli.invoke(args=["gdpr", "export", "lea.martin@example.fr"])
    assert result.exit_code == 0, result.output
    export = json.loads(result.output)
    assert {form["task"] for form in export["volunteer"]["forms"]} == {"select_volunteer", "volunteer_file"}
    assert export["volunteer"]["contracts"][0]["birth_date"] == "2005-03-12"
    assert "person" not in export

    user = json.loads(cli.invoke(args=["gdpr", "export", "gestionnaire.udogec35"]).output)
    assert user["person"]["last_name"] == "Rolland" and user["person"]["roles"][0]["structure"] == "UDOGEC-35"
    assert [a["task"] for a in user["person"]["actions"]] == ["review_project", "draw_up_contract", "confirm_contract"]
    assert user["person"]["personal_data_reads"][0]["instance_id"] == instance.id
    assert len(user["person"]["api_tokens"]) == 1
    (web_session,) = user["person"]["web_sessions"]
    assert web_session["ended_at"] is None and {"address", "user_agent", "last_seen_at"} <= set(web_session)
    assert "password" not in json.dumps(user)

    unknown = cli.invoke(args=["gdpr", "export", "personne@example.fr"])
    assert unknown.exit_code != 0 and "Aucune donnée trouvée" in unknown.output


def test_anonymise_volunteers_of_ended_campaigns(runtime, session, cli, app, api):
    old = run_project(runtime, session, "2023-2024")
    recent = run_project(runtime, session, "2025-2026", volunteer=OTHER_VOLUNTEER)
    store = DocumentStore(settings_of(app).storage_dir)
    old_documents = session.scalars(select(Document).where(Document.instance_id == old.id)).all()
    assert {d.kind for d in old_documents} == {"identity_document", "contract", "signed_contract", "medical_certificate"}
    old_files = [store.path_of(document) for document in old_documents]
    assert all(path.is_file() for path in old_files)

    result = cli.invoke(args=["gdpr", "anonymise", "--older-than-days", "365"])
    assert result.exit_code == 0, result.output
    assert "1 dossier anonymisé" in result.output and str(old.id) in result.output
    session.expire_all()

    volunteer = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == old.id,
                                                        AuditEvent.spec_id == "volunteer_file"))
    assert volunteer.data["last_name"] == "[anonymisé]" and volunteer.data["birth_date"] == "[anonymisé]"
    assert volunteer.data["disability"] is None and volunteer.data["start_date"] == "2027-10-01"
    contract = session.scalar(select(VolunteerContract).where(VolunteerContract.instance_id == old.id))
    assert (contract.first_name, contract.email, contract.end_date) == ("[anonymisé]", None, "2028-05-31")
    assert not any(path.exists() for path in old_files)
    assert session.scalar(select(Document).where(Document.instance_id == old.id)) is None
    refreshed = session.get(ProcessInstance, old.id)
    assert "Martin" not in refreshed.state and "lea.martin" not in refreshed.state
    workflow = runtime.load(refreshed).workflow
    files = [task.data["volunteer"] for task in workflow.get_tasks() if "volunteer" in task.data]
    assert files and all(file["first_name"] == "[anonymisé]" for file in files)
    detail = api.get(f"/api/v1/instances/{old.id}", "pilote").json
    assert [entry["label"] for entry in detail["history"] if entry["kind"] == "anonymised"] == ["Anonymisation"]
    assert "Petit" in session.get(ProcessInstance, recent.id).state, "a recent campaign is kept"

    again = cli.invoke(args=["gdpr", "anonymise", "--older-than-days", "365"])
    assert "0 dossier anonymisé" in again.output


def test_attendance_and_invitations_of_a_training_are_anonymised(runtime, session, cli):
    run_project(runtime, session, "2023-2024")
    udogec = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    training = runtime.start("training", principal_of(session, "gestionnaire.udogec35"), structure=udogec,
                             campaign="2023-2024")
    manager = principal_of(session, "gestionnaire.udogec35")

    def complete(spec: str) -> None:
        row = session.scalar(select(TaskRow).where(TaskRow.instance_id == training.id, TaskRow.state == "ready"))
        runtime.complete(row.id, manager, SAMPLES[spec])

    complete("plan_training")
    invitation = session.scalar(select(Notification).where(Notification.instance_id == training.id))
    assert invitation.recipient == "lea.martin@example.fr"
    planned = session.scalar(select(TrainingSession).where(TrainingSession.instance_id == training.id))
    registration = register(session, manager, planned, datetime(2027, 11, 1), mission=session.scalar(
        select(VolunteerMission)))
    record_attendance(session, manager, planned, {registration.id: True}, datetime(2027, 11, 19))
    complete("record_attendance")

    assert cli.invoke(args=["gdpr", "anonymise", "--older-than-days", "0"]).exit_code == 0
    session.expire_all()
    assert session.get(Notification, invitation.id).recipient == "[anonymisé]"
    assert session.get(TrainingRegistration, registration.id).name == "[anonymisé]"
    assert session.scalar(select(VolunteerMission.last_name)) == "[anonymisé]"
    state = session.get(ProcessInstance, training.id).state
    assert "Hugo Petit" not in state and "lea.martin" not in state and "Martin" not in state


def test_opening_a_task_that_names_the_volunteer_is_logged(runtime, session, browser, api):
    instance = run_project(runtime, session, "2027-2028", STEPS[:6])
    task = session.scalar(select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready"))
    assert task.spec_id == "draw_up_contract"
    assert api.get(f"/api/v1/tasks/{task.id}", "gestionnaire.udogec35").status_code == 200
    browser.login("gestionnaire.udogec35")
    assert browser.client.get(f"/taches/{task.id}").status_code == 200
    assert reads(session) == [("gestionnaire.udogec35", "tâche", "api"), ("gestionnaire.udogec35", "tâche", "web")]


def deploy_volunteer_form_with(session, **properties) -> None:
    """Deploy a new version whose volunteer form has the given extra fields."""
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    schema = json.loads(files["forms/volunteer_file.schema.json"])
    schema["properties"].update(properties)
    files["forms/volunteer_file.schema.json"] = json.dumps(schema, ensure_ascii=False)
    deploy(session, files, actor="tests")
    session.commit()


PREVIOUS = {"previous_volunteering": "Bénévole aux Restos du cœur de Vitré"}


def test_a_field_an_analyst_marks_personal_is_exported_and_anonymised(runtime, session, cli):
    deploy_volunteer_form_with(session, previous_volunteering={
        "title": "Engagements bénévoles antérieurs", "type": "string", "maxLength": 500, "x-personal": True})
    instance = run_project(runtime, session, "2023-2024", volunteer=PREVIOUS)
    assert instance.deployment_id == session.scalar(select(func.max(Deployment.id)))

    export = json.loads(cli.invoke(args=["gdpr", "export", "lea.martin@example.fr"]).output)
    (volunteer_file,) = [form for form in export["volunteer"]["forms"] if form["task"] == "volunteer_file"]
    assert volunteer_file["data"]["previous_volunteering"] == PREVIOUS["previous_volunteering"]

    assert "1 dossier anonymisé" in cli.invoke(args=["gdpr", "anonymise", "--older-than-days", "365"]).output
    session.expire_all()
    event = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                    AuditEvent.spec_id == "volunteer_file"))
    assert event.data["previous_volunteering"] == "[anonymisé]"
    assert "Restos" not in session.get(ProcessInstance, instance.id).state


def test_a_field_kept_longer_is_anonymised_in_a_second_step(runtime, session, tmp_path):
    deploy_volunteer_form_with(session, previous_volunteering={
        "title": "Engagements bénévoles antérieurs", "type": "string", "x-personal": {"retention": "P3Y"}})
    instance = run_project(runtime, session, "2023-2024", volunteer=PREVIOUS)
    store = DocumentStore(tmp_path / "documents")
    now = datetime(2027, 3, 15)

    def volunteer_file() -> dict:
        session.expire_all()
        return session.scalar(select(AuditEvent.data).where(AuditEvent.instance_id == instance.id,
                                                            AuditEvent.spec_id == "volunteer_file"))

    # The campaign ended on 31 August 2024: the default rule (365 days) has run out, three years have not.
    assert anonymise_volunteers(session, store, date(2026, 1, 1), 365, now) == [instance.id]
    assert volunteer_file()["last_name"] == "[anonymisé]"
    assert volunteer_file()["previous_volunteering"] == PREVIOUS["previous_volunteering"]
    assert session.scalar(select(Document).where(Document.instance_id == instance.id)) is None
    assert anonymise_volunteers(session, store, date(2027, 8, 31), 365, now) == []

    assert anonymise_volunteers(session, store, date(2027, 9, 1), 365, now) == [instance.id]
    assert volunteer_file()["previous_volunteering"] == "[anonymisé]"
    assert "Restos" not in session.get(ProcessInstance, instance.id).state
    kinds = session.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id == instance.id,
                                                          AuditEvent.kind.like("anonymised%")).order_by(AuditEvent.id))
    assert list(kinds) == ["anonymised_part", "anonymised"]
    assert anonymise_volunteers(session, store, date(2030, 1, 1), 365, now) == []


def test_the_reason_of_an_early_end_is_anonymised(runtime, session, tmp_path):
    from engine.campaign.termination import end_mission

    from follow_up_support import to_follow_up
    from test_processes import sample

    instance = to_follow_up(runtime, session)
    mission = session.scalar(select(VolunteerMission).where(VolunteerMission.instance_id == instance.id))
    # The state escapes accents: look for plain words of the reason.
    reason = "emploi en CDI"
    assert reason in sample("end_mission")["reason"]
    end_mission(runtime, mission, principal_of(session, "referent.rennes"), sample("end_mission"))
    assert reason in session.get(ProcessInstance, instance.id).state

    # The end_mission form marks its reason: the message's variable and the event keeping the form follow it.
    store = DocumentStore(tmp_path / "documents")
    assert anonymise_volunteers(session, store, date(2030, 1, 1), 365, datetime(2030, 1, 1)) == [instance.id]
    session.expire_all()
    event = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == instance.id, AuditEvent.kind == "event"))
    assert event.data["reason"] == "[anonymisé]" and event.data["end_date"] == sample("end_mission")["end_date"]
    assert session.get(VolunteerMission, mission.id).termination_reason == "[anonymisé]"
    assert reason not in session.get(ProcessInstance, instance.id).state


def test_a_version_deployed_before_the_marks_is_read_with_the_latest_marks(runtime, session, cli):
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    for name in [name for name in files if name.endswith(".schema.json")]:
        schema = json.loads(files[name])
        schema.pop("x-personal-data", None)
        for prop in schema["properties"].values():
            prop.pop("x-personal", None)
        files[name] = json.dumps(schema, ensure_ascii=False)
    unmarked = deploy(session, files, actor="tests")
    session.commit()
    instance = run_project(runtime, session, "2023-2024")
    assert instance.deployment_id == unmarked.id

    assert "1 dossier anonymisé" in cli.invoke(args=["gdpr", "anonymise", "--older-than-days", "365"]).output
    session.expire_all()
    assert "Martin" not in session.get(ProcessInstance, instance.id).state
