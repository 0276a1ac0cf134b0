"""The whole campaign through the JSON API only, each step by its role."""
from __future__ import annotations

from datetime import datetime

from jsonschema import Draft202012Validator

from webapp.api.openapi import SPEC

from conftest import SAMPLES
from follow_up_support import run_worker

RENNES = "0350781J"


def documented(response, template: str, method: str = "get"):
    """Check a response against what the OpenAPI document says of its path, method and status; return it."""
    answer = SPEC["paths"][template][method]["responses"][str(response.status_code)]
    if "$ref" in answer:
        answer = SPEC["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    schema = answer["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": SPEC["components"]}).validate(response.json)
    return response


def do_task(api, login: str, name: str, data: dict) -> dict:
    """As `login`, find the task `name` in the task list, read its form, complete it; return the instance."""
    tasks = documented(api.get("/api/v1/tasks", login), "/api/v1/tasks").json["items"]
    matches = [task for task in tasks if task["name"] == name]
    assert matches, f"{login} ne voit pas « {name} » : {[t['name'] for t in tasks]}"
    task = documented(api.get(f"/api/v1/tasks/{matches[0]['id']}", login), "/api/v1/tasks/{task_id}").json
    assert task["schema"]["type"] == "object" and set(data) <= set(task["schema"]["properties"])
    response = api.post(f"/api/v1/tasks/{task['id']}/complete", login, json=data)
    assert response.status_code == 200, response.json
    instance = documented(response, "/api/v1/tasks/{task_id}/complete", "post").json["instance"]
    # The steps it now waits at are its ready tasks, named as the pages name them.
    assert [(step["id"], step["label"]) for step in instance["current_steps"]] == [
        (task["name"], task["title"]) for task in instance["tasks"]]
    # The answer comes from what the save just wrote, without reading the dossier again: a fresh read shows the same.
    fresh = api.get(f"/api/v1/instances/{instance['id']}", login).json
    assert set(fresh) - set(instance) == {"process_name", "history"}
    assert instance == {key: value for key, value in fresh.items() if key in instance}
    return instance


def test_full_campaign_through_the_api(api, sessions, tmp_path):
    # The référent finds their school, and whether its file lets them submit, as their home page shows it.
    (school,) = documented(api.get("/api/v1/establishments", "referent.rennes"),
                           "/api/v1/establishments").json["items"]
    assert (school["uai"], school["complete"]) == (RENNES, True)
    started = api.post("/api/v1/instances", "referent.rennes",
                       json={"process": "hosting_project", "establishment": school["uai"]})
    assert started.status_code == 201, started.json
    documented(started, "/api/v1/instances", "post")
    instance_id = started.json["instance"]["id"]
    assert [t["name"] for t in started.json["instance"]["tasks"]] == ["design_project"]

    do_task(api, "referent.rennes", "design_project", SAMPLES["design_project"])
    do_task(api, "gestionnaire.udogec35", "review_project", SAMPLES["review_project"])
    do_task(api, "referent.rennes", "publish_offer", SAMPLES["publish_offer"])
    do_task(api, "referent.rennes", "select_volunteer", SAMPLES["select_volunteer"])
    do_task(api, "tuteur.rennes", "confirm_selection", SAMPLES["confirm_selection"])
    do_task(api, "referent.rennes", "volunteer_file", SAMPLES["volunteer_file"])
    do_task(api, "gestionnaire.udogec35", "draw_up_contract", SAMPLES["draw_up_contract"])
    do_task(api, "referent.rennes", "upload_signed_contract", SAMPLES["upload_signed_contract"])
    do_task(api, "gestionnaire.udogec35", "confirm_contract", SAMPLES["confirm_contract"])
    # Late May 2028: the worker has opened every monthly follow-up and the mid-mission review, then the report.
    run_worker(sessions, tmp_path, datetime(2028, 5, 20, 10, 0))
    do_task(api, "tuteur.rennes", "record_follow_up", SAMPLES["record_follow_up"])
    do_task(api, "referent.rennes", "mid_mission_review", SAMPLES["mid_mission_review"])
    run_worker(sessions, tmp_path, datetime(2028, 5, 20, 10, 0))
    last = do_task(api, "cotuteur.rennes", "end_of_mission_report", SAMPLES["end_of_mission_report"])
    assert last["status"] == "completed" and last["tasks"] == []

    detail = documented(api.get(f"/api/v1/instances/{instance_id}", "referent.rennes"),
                        "/api/v1/instances/{instance_id}").json
    assert detail["status"] == "completed" and detail["status_label"] == "Terminé"
    completed = [entry["task"] for entry in detail["history"] if entry["kind"] == "completed"]
    assert completed[:3] == ["design_project", "review_project", "publish_offer"]
    assert completed[-1] == "end_of_mission_report"
    volunteer = next(entry for entry in detail["history"] if entry["task"] == "volunteer_file")
    assert volunteer["data"]["last_name"] == "Martin" and volunteer["actor"] == "Anne Le Goff"

    documents = documented(api.get(f"/api/v1/instances/{instance_id}/documents", "referent.rennes"),
                           "/api/v1/instances/{instance_id}/documents").json["items"]
    assert {"contract", "identity_document", "signed_contract"} <= {d["kind"] for d in documents}
    assert "certificate" in {d["kind"] for d in documents}, "the end-of-mission certificate"
    contract = next(d for d in documents if d["kind"] == "contract")
    download = api.get(contract["url"], "referent.rennes")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert download.headers["Content-Type"] == "application/pdf"
    download.close()

    training = api.post("/api/v1/instances", "gestionnaire.udogec35",
                        json={"process": "training", "structure": "UDOGEC-35"})
    assert training.status_code == 201
    do_task(api, "gestionnaire.udogec35", "plan_training", SAMPLES["plan_training"])
    closed = do_task(api, "gestionnaire.udogec35", "record_attendance", SAMPLES["record_attendance"])
    assert closed["status"] == "completed"

    listed = documented(api.get("/api/v1/instances?status=completed", "gestionnaire.udogec35"),
                        "/api/v1/instances").json
    assert {item["process"] for item in listed["items"]} == {"hosting_project", "training"}


def test_changes_requested_come_back_prefilled(api):
    api.post("/api/v1/instances", "referent.rennes", json={"process": "hosting_project", "establishment": RENNES})
    do_task(api, "referent.rennes", "design_project", SAMPLES["design_project"])
    do_task(api, "gestionnaire.udogec35", "review_project",
            {"decision": "changes", "comment": "Merci de préciser le rôle du tuteur."})
    (task,) = api.get("/api/v1/tasks", "referent.rennes").json["items"]
    detail = api.get(f"/api/v1/tasks/{task['id']}", "referent.rennes").json
    assert detail["data"]["title"] == SAMPLES["design_project"]["title"]
    assert "Merci de préciser le rôle du tuteur." in detail["instructions"]


def test_school_files_and_errors_match_the_document(api):
    for login, uai in (("referent.pontivy", "0561433D"), ("gestionnaire.fnogec", RENNES)):
        documented(api.get(f"/api/v1/establishments/{uai}", login), "/api/v1/establishments/{uai}")
    documented(api.get(f"/api/v1/establishments/{RENNES}", "referent.pontivy"), "/api/v1/establishments/{uai}")
    invalid = api.post("/api/v1/instances", "referent.rennes", json={"process": "hosting_project"})
    assert documented(invalid, "/api/v1/instances", "post").status_code == 422
