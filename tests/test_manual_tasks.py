"""Manual tasks: a `bpmn:manualTask` is done with « C'est fait », on the page, through the API and in scenarios."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from engine.models import Structure, TaskRow
from engine.runtime.deployment import deploy, read_definition_files
from engine.scenarios import load_scenario
from engine.scenarios.runner import run_scenario
from engine.scenarios.world import World

from conftest import principal_of
from test_processes import do, sample

ROOT = Path(__file__).resolve().parent.parent
INSTRUCTIONS = "Relevez les présences sur la feuille d'émargement papier."


def files_with_manual_attendance() -> dict[str, str]:
    """The project's files, with the attendance of training.bpmn turned into a manual task with instructions."""
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    text = files["processes/training.bpmn"]
    head, task = text.split('<bpmn:userTask id="record_attendance"', 1)
    _, tail = task.split("</bpmn:userTask>", 1)
    files["processes/training.bpmn"] = (
        f'{head}<bpmn:manualTask id="record_attendance" name="Relever les présences">'
        f"<bpmn:extensionElements><spiffworkflow:instructionsForEndUser>{INSTRUCTIONS}"
        "</spiffworkflow:instructionsForEndUser></bpmn:extensionElements>"
        "<bpmn:incoming>flow_invite_participants_task_to_record_attendance</bpmn:incoming>"
        "<bpmn:outgoing>flow_record_attendance_to_close_training_session_task</bpmn:outgoing>"
        f"</bpmn:manualTask>{tail}")
    return files


def planned(runtime, session):
    """A training planned on the manual-task version of the process; return the ready manual task's row."""
    deploy(session, files_with_manual_attendance(), actor="tests")
    session.commit()
    organiser = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    instance = runtime.start("training", principal_of(session, "gestionnaire.udogec35"), structure=organiser)
    do(runtime, session, instance.id, "gestionnaire.udogec35", "plan_training", sample("plan_training"))
    return session.scalar(select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready"))


def test_a_manual_task_is_done_with_no_data(runtime, session):
    row = planned(runtime, session)
    assert (row.spec_id, row.lane) == ("record_attendance", "gestionnaire")
    instance = runtime.complete(row.id, principal_of(session, "gestionnaire.udogec35"), {})
    assert (instance.status, instance.incident) == ("completed", None)


def test_the_page_of_a_manual_task_offers_its_button_and_completes_it(runtime, session, browser):
    row = planned(runtime, session)
    browser.login("gestionnaire.udogec35")
    page = browser.client.get(f"/taches/{row.id}").get_data(as_text=True)
    assert INSTRUCTIONS in page and "C'est fait" in page and "Enregistrer le brouillon" not in page
    response = browser.post_form(f"/taches/{row.id}", {})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(TaskRow, row.id).state == "completed"
    assert row.instance.status == "completed"


def test_the_api_completes_a_manual_task_with_an_empty_body(runtime, session, client):
    from conftest import ApiClient

    row = planned(runtime, session)
    api = ApiClient(client)
    response = client.post(f"/api/v1/tasks/{row.id}/complete",
                           headers={"Authorization": f"Bearer {api.token('gestionnaire.udogec35')}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["instance"]["status"] == "completed"


def test_a_scenario_step_completes_a_manual_task_with_no_data(tmp_path):
    path = tmp_path / "manual.yaml"
    path.write_text("name: Présences relevées sur papier\nprocess: training\n"
                    "start: {structure: UDOGEC-35, date: 2027-10-01}\nsteps:\n"
                    "  - task: plan_training\n    as: gestionnaire.udogec35\n"
                    "    data: {kind: fcc, title: Formation civique, session_date: 2027-11-18, place: Rennes, "
                    "capacity: 30, audience: volunteers}\n"
                    "  - task: record_attendance\n"
                    "end: {event: training_closed, status: completed}\n", encoding="utf-8")
    with World(files_with_manual_attendance()) as world, world.copy() as copy:
        outcome = run_scenario(load_scenario(path), copy)
    assert outcome.passed, outcome.report()


def test_a_failure_of_the_platform_in_a_scenario_is_reported_without_a_traceback(tmp_path, monkeypatch):
    from engine.runtime.runtime import ProcessRuntime

    def broken(*_args, **_kwargs):
        raise AttributeError("'ManualTask' object has no attribute 'add_data_from_form'")

    monkeypatch.setattr(ProcessRuntime, "complete", broken)
    path = tmp_path / "broken.yaml"
    path.write_text("name: Plateforme en panne\nprocess: training\nstart: {structure: UDOGEC-35}\n"
                    "steps:\n  - task: plan_training\n", encoding="utf-8")
    with World(files_with_manual_attendance()) as world, world.copy() as copy:
        outcome = run_scenario(load_scenario(path), copy)
    assert not outcome.passed
    assert outcome.explanation == (
        "erreur inattendue de la plateforme pendant le scénario (détail : AttributeError : "
        "'ManualTask' object has no attribute 'add_data_from_form') ; signalez-la à l'équipe technique avec le "
        "scénario et les fichiers.")
