"""Operations on instances: retry, suspend, resume, terminate, reassign, migrate — allowed, audited, refused."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.access import Forbidden
from engine.models import AuditEvent, Notification, Person, ProcessInstance, TaskRow, Timer
from engine.ops.consistency import check_consistency
from engine.ops.operations import OperationRefused
from engine.runtime.deployment import deploy, read_definition_files
from engine.runtime.runtime import Conflict
from engine.views.queries import actionable_tasks

from conftest import principal_of
from monitoring_support import ROOT, ready, sample, seed


@pytest.fixture
def seeded(session, tmp_path):
    """The seeded projects (see `monitoring_support.seed`)."""
    return seed(session, tmp_path)


def person_id(session, login: str) -> int:
    return session.scalar(select(Person.id).where(Person.login == login))


def events(session, instance, kind: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                         AuditEvent.kind == kind).order_by(AuditEvent.id)))


def inbox_ids(session, login: str) -> set[str]:
    return {row.id for row, _instance, _establishment in actionable_tasks(session, principal_of(session, login))}


def test_suspend_takes_the_tasks_out_of_reach_and_resume_gives_them_back(session, seeded):
    ops, rennes = seeded.runtime, seeded.instances["rennes"]
    task = ready(session, rennes.id)[0]
    session.add(Timer(instance_id=rennes.id, task_id="timer-1", spec_id="reminder", kind="duration",
                      due_at=seeded.clock()))
    session.commit()
    ops.suspend(rennes, principal_of(session, "gestionnaire.udogec35"), "  Absence de la cheffe d'établissement. ")
    assert rennes.status == "suspended"
    assert task.id not in inbox_ids(session, "referent.rennes")
    assert session.scalars(select(Timer).where(Timer.instance_id == rennes.id)).all() == []
    with pytest.raises(Conflict, match="suspendu"):
        ops.complete(task.id, principal_of(session, "referent.rennes"), sample("design_project"))
    session.rollback()
    [suspension] = events(session, rennes, "suspended")
    assert suspension.data == {"reason": "Absence de la cheffe d'établissement."}
    assert suspension.actor_id == person_id(session, "gestionnaire.udogec35")

    ops.resume(rennes, principal_of(session, "pilote"))
    assert rennes.status == "running" and task.id in inbox_ids(session, "referent.rennes")
    assert len(events(session, rennes, "resumed")) == 1
    ops.complete(task.id, principal_of(session, "referent.rennes"), sample("design_project"))
    assert ready(session, rennes.id)[0].spec_id == "review_project"


def test_an_instance_in_incident_resumes_in_incident(session, seeded):
    ops, instance = seeded.runtime, seeded.instances["brest-incident"]
    ops.suspend(instance, principal_of(session, "pilote"), "Analyse en cours.")
    ops.resume(instance, principal_of(session, "pilote"))
    assert instance.status == "incident"


@pytest.mark.parametrize("reason", [None, "", "   ", "x" * 501])
def test_suspend_and_terminate_need_a_reason(session, seeded, reason):
    ops, rennes = seeded.runtime, seeded.instances["rennes"]
    with pytest.raises(OperationRefused, match="motif"):
        ops.suspend(rennes, principal_of(session, "pilote"), reason)
    with pytest.raises(OperationRefused, match="motif"):
        ops.terminate(rennes, principal_of(session, "pilote"), reason)
    assert rennes.status == "running"


def test_operations_refuse_what_the_state_does_not_allow(session, seeded):
    ops, pilote = seeded.runtime, principal_of(session, "pilote")
    with pytest.raises(Conflict, match="pas suspendu"):
        ops.resume(seeded.instances["rennes"], pilote)
    with pytest.raises(Conflict, match="Seul un dossier en cours"):
        ops.suspend(seeded.instances["paris-terminated"], pilote, "Motif")
    with pytest.raises(Conflict, match="déjà terminé"):
        ops.terminate(seeded.instances["rennes-refused"], pilote, "Motif")
    with pytest.raises(Conflict, match="pas en incident"):
        ops.retry_incident(seeded.instances["rennes"], pilote)


def test_terminate_cancels_every_open_task_and_keeps_the_reason(session, seeded):
    ops, brest = seeded.runtime, seeded.instances["brest-b"]
    task = ready(session, brest.id)[0]
    ops.terminate(brest, principal_of(session, "gestionnaire.urogec"), "Projet abandonné par l'établissement.")
    assert (brest.status, brest.ended_at, brest.current_step) == ("terminated", seeded.clock(), None)
    assert session.get(TaskRow, task.id).state == "cancelled"
    assert task.id not in inbox_ids(session, "gestionnaire.udogec29")
    [event] = events(session, brest, "terminated")
    assert event.summary == "Interruption : Projet abandonné par l'établissement."
    # The engine's state tells the same story as the instance row.
    assert [p for p in check_consistency(session).problems if p.instance_id == brest.id] == []


def test_retry_after_the_handler_is_fixed(session, seeded):
    ops, instance = seeded.runtime, seeded.instances["brest-incident"]
    assert instance.incident_node == "hosting_project:check_school_file_task"
    assert "Annuaire injoignable" in instance.incident
    with pytest.raises(Forbidden):
        ops.retry_incident(instance, principal_of(session, "gestionnaire.udogec29"))
    ops.retry_incident(instance, principal_of(session, "pilote"))
    assert (instance.status, instance.incident, instance.incident_node) == ("running", None, None)
    assert [r.spec_id for r in ready(session, instance.id)] == ["review_project"]
    assert len(events(session, instance, "retried")) == 1


def test_reassign_a_review_to_the_urogec(session, seeded):
    ops, brest = seeded.runtime, seeded.instances["brest-b"]
    task = ready(session, brest.id, "review_project")[0]
    assert task.structure_code == "UDOGEC-29"
    urogec = person_id(session, "gestionnaire.urogec")
    ops.reassign(task.id, principal_of(session, "gestionnaire.udogec29"), urogec)
    assert (task.assignee_id, task.structure_code) == (urogec, "UROGEC-BRETAGNE")
    assert task.id in inbox_ids(session, "gestionnaire.urogec")
    assert task.id not in inbox_ids(session, "gestionnaire.udogec29")
    with pytest.raises(Forbidden):
        ops.ready_task(task.id, principal_of(session, "gestionnaire.udogec29"))
    [event] = events(session, brest, "reassigned")
    assert event.data == {"task": "review_project", "from": None, "to": "Erwan Le Gall"}
    notice = session.scalar(select(Notification).where(Notification.instance_id == brest.id,
                                                       Notification.person_id == urogec))
    assert notice.subject == "Tâche à faire : Instruire le projet d'accueil" and notice.link == f"/taches/{task.id}"
    ops.complete(task.id, principal_of(session, "gestionnaire.urogec"), sample("review_project"))
    assert session.get(TaskRow, task.id).completed_by_id == urogec


def test_reassign_only_to_an_eligible_person_and_back_to_everyone(session, seeded):
    ops, paris = seeded.runtime, seeded.instances["paris"]
    task = ready(session, paris.id)[0]
    pilote = principal_of(session, "pilote")
    with pytest.raises(OperationRefused, match="ne peut pas faire cette tâche"):
        ops.reassign(task.id, pilote, person_id(session, "referent.rennes"))
    with pytest.raises(OperationRefused, match="n'est confiée à personne"):
        ops.reassign(task.id, pilote, None)
    ops.reassign(task.id, pilote, person_id(session, "referent.paris"))
    with pytest.raises(OperationRefused, match="déjà confiée à François Dupont"):
        ops.reassign(task.id, pilote, person_id(session, "referent.paris"))
    ops.reassign(task.id, pilote, None)
    assert task.assignee_id is None
    assert [e.data["to"] for e in events(session, paris, "reassigned")] == ["François Dupont", None]


OPERATIONS = {
    "suspend": lambda ops, s, p: ops.suspend(s.instances["rennes"], p, "Motif"),
    "resume": lambda ops, s, p: ops.resume(s.instances["rennes-suspended"], p),
    "terminate": lambda ops, s, p: ops.terminate(s.instances["rennes"], p, "Motif"),
    "retry": lambda ops, s, p: ops.retry_incident(s.instances["brest-incident"], p),
    "reassign": lambda ops, s, p: ops.reassign(ready(ops.session, s.instances["rennes"].id)[0].id, p, None),
    "migrate": lambda ops, s, p: ops.migrate(s.instances["rennes"], p, s.deployment),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("login", ["referent.rennes", "tuteur.rennes", "gestionnaire.udogec29"])
def test_forbidden_to_school_staff_and_to_another_territory(session, seeded, operation, login):
    before = session.scalar(select(ProcessInstance.version).where(ProcessInstance.id == seeded.instances["rennes"].id))
    with pytest.raises(Forbidden):
        OPERATIONS[operation](seeded.runtime, seeded, principal_of(session, login))
    session.rollback()
    assert session.scalar(select(ProcessInstance.version)
                          .where(ProcessInstance.id == seeded.instances["rennes"].id)) == before
    assert events(session, seeded.instances["rennes"], operation) == []


@pytest.mark.parametrize("operation", ["retry", "migrate"])
def test_retry_and_migrate_are_for_process_owners_only(session, seeded, operation):
    with pytest.raises(Forbidden, match="responsables de processus"):
        OPERATIONS[operation](seeded.runtime, seeded, principal_of(session, "gestionnaire.udogec35"))


def newer_version(session, rename: dict[str, str] | None = None, relabel: dict[str, str] | None = None):
    """Deploy a version where some task ids of the campaign's processes are renamed and some labels changed."""
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    before = dict(files)
    for name in ("processes/hosting_project.bpmn", "processes/volunteer.bpmn"):
        text = files[name]
        for old, new in (rename or {}).items():
            text = re.sub(rf'(["> ]){old}([<" ])', rf"\g<1>{new}\g<2>", text)
        for old, new in (relabel or {}).items():
            text = text.replace(f'name="{old}"', f'name="{new}"')
        files[name] = text
    assert files != before, "la nouvelle version doit différer"
    deployment = deploy(session, files, actor="analyste")
    session.commit()
    return deployment


def test_migration_moves_compatible_instances_and_says_why_not_for_the_others(session, seeded):
    ops, pilote = seeded.runtime, principal_of(session, "pilote")
    target = newer_version(session, rename={"review_project": "review_project_v2"},
                           relabel={"Concevoir et déposer le projet d'accueil": "Concevoir le projet"})
    rennes, brest_b = seeded.instances["rennes"], seeded.instances["brest-b"]
    moved = ops.migrate(rennes, pilote, target)
    assert moved.migrated and rennes.deployment_id == target.id
    assert ready(session, rennes.id)[0].title == "Concevoir le projet"
    refused = ops.migrate(brest_b, pilote, target)
    assert not refused.migrated and brest_b.deployment_id == seeded.deployment.id
    assert refused.reasons == [
        f"L'étape « Instruire le projet d'accueil » (review_project) du processus « hosting_project », où ce "
        f"dossier attend, n'existe plus dans la version {target.id}."]
    assert ops.migrate(seeded.instances["rennes-refused"], pilote, target).reasons == [
        "Ce dossier est terminé : il n'attend plus rien et reste sur sa version."]
    assert ops.migrate(rennes, pilote, seeded.deployment).reasons == [
        f"La version {seeded.deployment.id} n'est pas plus récente que la version actuelle du dossier ({target.id})."]
    assert ops.migrate(seeded.instances["rennes-suspended"], pilote, target).reasons == [
        "Ce dossier est suspendu : reprenez-le avant de le migrer."]
    [event] = events(session, rennes, "migrated")
    assert event.data == {"from": seeded.deployment.id, "to": target.id}
    # The migrated instance runs on in its new version, to the renamed step.
    ops.complete(ready(session, rennes.id)[0].id, principal_of(session, "referent.rennes"), sample("design_project"))
    assert [r.spec_id for r in ready(session, rennes.id)] == ["review_project_v2"]
    assert [p for p in check_consistency(session).problems if p.instance_id == rennes.id] == []


def test_migration_keeps_history_whose_step_was_removed(session, seeded):
    ops, pilote = seeded.runtime, principal_of(session, "pilote")
    brest_b = seeded.instances["brest-b"]
    seeded.do("brest-b", "gestionnaire.udogec29", "review_project", sample("review_project"))
    target = newer_version(session, rename={"review_project": "review_project_v2"})
    assert ops.migrate(brest_b, pilote, target).migrated
    seeded.do("brest-b", "referent.brest", "publish_offer", sample("publish_offer"))
    assert ready(session, brest_b.id)[0].spec_id == "select_volunteer"


def test_migration_of_a_volunteer_path_waiting_in_a_called_process(session, seeded):
    ops, pilote = seeded.runtime, principal_of(session, "pilote")
    seeded.do("brest-b", "gestionnaire.udogec29", "review_project", sample("review_project", places_granted=1))
    seeded.do("brest-b", "referent.brest", "publish_offer", sample("publish_offer"))
    target = newer_version(session, relabel={"Proposer un candidat": "Proposer le candidat retenu"})
    assert ops.migrate(seeded.instances["brest-b"], pilote, target).migrated
    [row] = ready(session, seeded.instances["brest-b"].id)
    assert (row.spec_id, row.title) == ("select_volunteer", "Proposer le candidat retenu")
    seeded.do("brest-b", "referent.brest", "select_volunteer", sample("select_volunteer"))
    assert [r.spec_id for r in ready(session, seeded.instances["brest-b"].id)] == ["confirm_selection"]


def test_operations_from_the_instance_page(browser, session, seeded):
    rennes = seeded.instances["rennes"]
    browser.login("gestionnaire.udogec35")
    page = browser.client.get(f"/dossiers/{rennes.id}").get_data(as_text=True)
    assert "Piloter le dossier" in page and "Qui a la main" in page and "Changer de version" not in page
    response = browser.post_form(f"/dossiers/{rennes.id}/suspension", {"reason": ""}, page=f"/dossiers/{rennes.id}")
    assert response.status_code == 302
    assert "Indiquez le motif de la suspension." in browser.client.get(f"/dossiers/{rennes.id}").get_data(as_text=True)
    browser.post_form(f"/dossiers/{rennes.id}/suspension", {"reason": "Congé"}, page=f"/dossiers/{rennes.id}")
    session.refresh(rennes)
    assert rennes.status == "suspended"
    browser.post_form(f"/dossiers/{rennes.id}/reprise", {}, page=f"/dossiers/{rennes.id}")
    task = ready(session, rennes.id)[0]
    browser.post_form(f"/taches/{task.id}/reaffectation", {"person_id": str(person_id(session, "referent.rennes"))},
                      page=f"/dossiers/{rennes.id}")
    session.refresh(task)
    assert task.assignee_id == person_id(session, "referent.rennes")
    asked = browser.post_form(f"/dossiers/{rennes.id}/interruption", {"reason": "Doublon"}, page=f"/dossiers/{rennes.id}")
    assert asked.status_code == 200 and "Interrompre définitivement ce dossier ?" in asked.get_data(as_text=True)
    session.refresh(rennes)
    assert rennes.status == "running", "nothing is done before confirming"
    browser.post_form(f"/dossiers/{rennes.id}/interruption", {"reason": "Doublon", "confirmation": "oui"},
                      page=f"/dossiers/{rennes.id}")
    session.refresh(rennes)
    assert rennes.status == "terminated"
    history = browser.client.get(f"/dossiers/{rennes.id}").get_data(as_text=True)
    for summary in ("Suspension : Congé", "Reprise du dossier", "confiée à Anne Le Goff", "Interruption : Doublon"):
        assert summary in history


def test_a_referent_sees_no_operation_and_is_refused_each(browser, session, seeded):
    rennes = seeded.instances["rennes"]
    browser.login("referent.rennes")
    page = browser.client.get(f"/dossiers/{rennes.id}").get_data(as_text=True)
    assert "Piloter le dossier" not in page and 'name="person_id"' not in page
    task = ready(session, rennes.id)[0]
    for path, data in ((f"/dossiers/{rennes.id}/suspension", {"reason": "x"}), (f"/dossiers/{rennes.id}/reprise", {}),
                       (f"/dossiers/{rennes.id}/interruption", {"reason": "x"}),
                       (f"/taches/{task.id}/reaffectation", {"person_id": "tous"}),
                       (f"/dossiers/{rennes.id}/relance", {}),
                       ("/suivi/migration", {"dossier": str(rennes.id), "version": str(seeded.deployment.id)})):
        assert browser.post_form(path, data, page=f"/dossiers/{rennes.id}").status_code == 403, path
    session.refresh(rennes)
    assert rennes.status == "running" and events(session, rennes, "suspended") == []


def test_migration_page_reports_each_instance(browser, session, seeded):
    target = newer_version(session, rename={"review_project": "review_project_v2"})
    browser.login("pilote")
    ids = [seeded.instances[n].id for n in ("rennes", "brest-b")]
    response = browser.client.post("/suivi/migration", data={
        "dossier": [str(i) for i in ids], "version": str(target.id),
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"',
                                browser.client.get("/suivi/").get_data(as_text=True)).group(1)})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "1 dossier migré sur 2" in html
    assert "(review_project) du processus « hosting_project », où ce dossier attend, n&#39;existe plus" in html


def test_api_operations_and_a_referent_refused(api, session, seeded):
    rennes, brest_b = seeded.instances["rennes"], seeded.instances["brest-b"]
    assert api.post(f"/api/v1/instances/{rennes.id}/suspend", "referent.rennes", {"reason": "x"}).status_code == 403
    refused = api.post(f"/api/v1/instances/{rennes.id}/suspend", "pilote", {"reason": " "})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "reason"
    suspended = api.post(f"/api/v1/instances/{rennes.id}/suspend", "pilote", {"reason": "Vérification"})
    assert suspended.status_code == 200 and suspended.json["instance"]["status"] == "suspended"
    [waiting] = ready(session, rennes.id)
    doer = {"referent": "referent.rennes", "gestionnaire": "gestionnaire.udogec35"}[waiting.lane]
    assert [t["actionable"] for t in api.get(f"/api/v1/instances/{rennes.id}", doer).json["tasks"]] == [False]
    assert api.post(f"/api/v1/instances/{rennes.id}/suspend", "pilote", {"reason": "Encore"}).status_code == 409
    assert api.post(f"/api/v1/instances/{rennes.id}/resume", "gestionnaire.udogec35").json["instance"]["status"] == \
        "running"
    assert [t["actionable"] for t in api.get(f"/api/v1/instances/{rennes.id}", doer).json["tasks"]] == [True]
    task = ready(session, brest_b.id)[0]
    candidates = api.get(f"/api/v1/tasks/{task.id}/candidates", "gestionnaire.udogec29").json["items"]
    assert {c["structure"] for c in candidates} == {"FNOGEC", "UROGEC-BRETAGNE", "UDOGEC-29"}
    urogec = person_id(session, "gestionnaire.urogec")
    assert api.post(f"/api/v1/tasks/{task.id}/reassign", "gestionnaire.udogec35", {"person_id": urogec}).status_code \
        == 403
    moved = api.post(f"/api/v1/tasks/{task.id}/reassign", "gestionnaire.udogec29", {"person_id": urogec})
    assert moved.status_code == 200
    assert [t["actionable"] for t in api.get(f"/api/v1/instances/{brest_b.id}", "gestionnaire.urogec").json["tasks"]] \
        == [True]
    retried = api.post(f"/api/v1/instances/{seeded.instances['brest-incident'].id}/retry", "pilote")
    assert retried.status_code == 200 and retried.json["instance"]["status"] == "running"
    target = newer_version(session, rename={"review_project": "review_project_v2"})
    blocked = api.post(f"/api/v1/instances/{brest_b.id}/migrate", "pilote", {"version": target.id})
    assert blocked.status_code == 409 and "review_project" in blocked.json["errors"][0]["message"]
    assert api.post(f"/api/v1/instances/{rennes.id}/migrate", "pilote", {"version": target.id}).status_code == 200
    ended = api.post(f"/api/v1/instances/{rennes.id}/terminate", "gestionnaire.urogec", {"reason": "Doublon"})
    assert ended.status_code == 200 and ended.json["instance"]["status"] == "terminated"
