"""The JSON API: tokens, tasks, instances, documents, school files, and its errors."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.demo.directory import DEMO_PASSWORD
from engine.directory.tokens import issue_token
from engine.models import ApiToken, Establishment, Person, TaskRow
from engine.runtime.deployment import deploy, read_definition_files

from conftest import ROOT, SAMPLES, principal_of

RENNES, BREST, PONTIVY = "0350781J", "0291652N", "0561433D"


@pytest.fixture
def projects(runtime, session):
    """A Rennes project waiting for review, a Brest project being designed."""
    started = {}
    for login, uai in (("referent.rennes", RENNES), ("referent.brest", BREST)):
        establishment = session.scalar(select(Establishment).where(Establishment.uai == uai))
        started[uai] = runtime.start("hosting_project", principal_of(session, login), establishment=establishment,
                                     campaign="2027-2028")
    design = session.scalar(select(TaskRow).where(TaskRow.instance_id == started[RENNES].id))
    runtime.complete(design.id, principal_of(session, "referent.rennes"), SAMPLES["design_project"])
    return started


def ready_task(session, instance) -> TaskRow:
    return session.scalar(select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready"))


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/json"
    body = response.json
    assert set(body) == {"status", "code", "message", "errors"} and body["status"] == status
    assert body["code"] == code and body["message"]
    return body


# Tokens

def test_token_is_issued_stored_hashed_and_revoked(api, session):
    response = api.client.post("/api/v1/auth/token", json={"login": "referent.rennes", "password": DEMO_PASSWORD})
    token = response.json["token"]
    assert response.status_code == 200 and response.json["token_type"] == "Bearer"
    assert datetime.fromisoformat(response.json["expires_at"]) > datetime.now() + timedelta(hours=7)
    stored = session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/tasks", headers=headers).status_code == 200
    assert api.client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert_error(api.client.get("/api/v1/tasks", headers=headers), 401, "unauthorized")
    assert_error(api.client.delete("/api/v1/auth/token", headers=headers), 401, "unauthorized")


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"login": "referent.rennes", "password": "mauvais"}, 401, "unauthorized"),
    ({"login": "inconnu", "password": DEMO_PASSWORD}, 401, "unauthorized"),
    ({"login": "referent.rennes"}, 422, "invalid_data"),
    ({"login": 3, "password": DEMO_PASSWORD}, 422, "invalid_data"),
    ({"login": "referent.rennes\x00", "password": DEMO_PASSWORD}, 401, "unauthorized"),
    ({"login": "referent.rennes", "password": DEMO_PASSWORD, "role": "admin"}, 422, "invalid_data"),
])
def test_bad_credentials_are_refused_in_french(client, body, status, code):
    error = assert_error(client.post("/api/v1/auth/token", json=body), status, code)
    if status == 401:
        assert error["message"] == "Identifiant ou mot de passe incorrect."


def test_expired_token_and_deactivated_account_are_refused(api, session):
    person = session.scalar(select(Person).where(Person.login == "referent.rennes"))
    expired, _record = issue_token(session, person, datetime.now() - timedelta(hours=9))
    assert_error(api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {expired}"}), 401, "unauthorized")
    valid, _record = issue_token(session, person, datetime.now())
    person.active = False
    session.commit()
    assert_error(api.client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {valid}"}), 401, "unauthorized")


def test_session_cookie_does_not_open_the_api(browser):
    browser.login("referent.rennes")
    response = browser.client.get("/api/v1/tasks")
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# Errors are JSON, never HTML

def test_an_undocumented_query_parameter_is_refused_not_ignored(api):
    body = assert_error(api.get("/api/v1/instances?statut=running", "gestionnaire.udogec35"), 400, "bad_request")
    assert body["message"] == "Paramètre de requête inconnu : « statut »."
    assert api.get("/api/v1/instances?status=running", "gestionnaire.udogec35").status_code == 200
    assert_error(api.get("/api/v1/tasks?page=2", "referent.rennes"), 400, "bad_request")


def test_routing_errors_are_json(api):
    assert_error(api.get("/api/v1/inconnu", "referent.rennes"), 404, "not_found")
    response = api.call("PATCH", "/api/v1/tasks", "referent.rennes")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]
    assert_error(api.client.post("/api/v1/auth/token", data="login=x", content_type="text/plain"),
                 415, "unsupported_media_type")
    assert_error(api.client.post("/api/v1/auth/token", data="{", content_type="application/json"),
                 400, "bad_request")
    assert_error(api.client.post("/api/v1/auth/token", data="[1]", content_type="application/json"),
                 400, "bad_request")
    assert_error(api.client.post("/api/v1/auth/token", data='{"login": NaN}', content_type="application/json"),
                 400, "bad_request")


def test_an_unexpected_failure_is_a_json_500(app, api, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*_args, **_kwargs):
        raise RuntimeError("panne")

    monkeypatch.setattr("webapp.api.tasks.inbox_page", broken)
    body = assert_error(api.get("/api/v1/tasks", "referent.rennes"), 500, "internal_error")
    assert "panne" not in body["message"]


# Tasks

def test_task_list_shows_what_the_caller_may_do(api, projects):
    (task,) = api.get("/api/v1/tasks", "gestionnaire.udogec35").json["items"]
    assert task["name"] == "review_project" and task["role"] == "gestionnaire"
    assert task["establishment"] == {"id": projects[RENNES].establishment_id, "uai": RENNES,
                                     "name": "Collège Saint-Joseph"}
    assert task["instance_id"] == projects[RENNES].id and task["process"] == "hosting_project"
    assert api.get("/api/v1/tasks", "gestionnaire.udogec29").json["items"] == []


def test_invalid_form_is_422_with_field_errors_and_nothing_changes(api, projects, session):
    review = ready_task(session, projects[RENNES])
    response = api.post(f"/api/v1/tasks/{review.id}/complete", "gestionnaire.udogec35",
                        json={"decision": "peut-être", "places_granted": "deux", "intrus": 1})
    body = assert_error(response, 422, "invalid_data")
    fields = {(e["field"], e["message"]) for e in body["errors"]}
    assert ("decision", "Choisissez une des valeurs proposées.") in fields
    assert ("places_granted", "Valeur attendue : un nombre entier.") in fields
    assert (None, "Champ inconnu : intrus.") in fields
    session.refresh(review)
    assert review.state == "ready"


def test_completed_task_is_409_and_outsiders_403_unknown_404(api, projects, session):
    review = ready_task(session, projects[RENNES])
    path = f"/api/v1/tasks/{review.id}/complete"
    assert_error(api.post(path, "gestionnaire.udogec29", json=SAMPLES["review_project"]), 403, "forbidden")
    assert_error(api.get(f"/api/v1/tasks/{review.id}", "referent.rennes"), 403, "forbidden")
    ok = api.post(path, "gestionnaire.udogec35", json=SAMPLES["review_project"])
    assert ok.status_code == 200
    assert ok.json["instance"]["current_step"] == "Publier l'offre sur service-civique.gouv.fr"
    assert ok.json["instance"]["revision"] > projects[RENNES].version
    assert_error(api.post(path, "gestionnaire.udogec35", json=SAMPLES["review_project"]), 409, "conflict")
    assert_error(api.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000", "referent.rennes"), 404, "not_found")
    assert_error(api.get("/api/v1/tasks/pas-un-identifiant", "referent.rennes"), 404, "not_found")


def test_complete_needs_a_json_object(api, projects, session):
    review = ready_task(session, projects[RENNES])
    path = f"/api/v1/tasks/{review.id}/complete"
    assert_error(api.post(path, "gestionnaire.udogec35", data="decision=accept"), 415, "unsupported_media_type")
    assert_error(api.post(path, "gestionnaire.udogec35", json=["accept"]), 400, "bad_request")
    nul = {**SAMPLES["review_project"], "comment": "a\x00b"}
    body = assert_error(api.post(path, "gestionnaire.udogec35", json=nul), 422, "invalid_data")
    assert body["errors"] == [{"field": "comment", "message": "Ce texte contient un caractère non autorisé."}]


# Instances

def test_instance_search_filters_and_pages(api, projects):
    def ids(query: str, login: str = "gestionnaire.fnogec") -> set[int]:
        response = api.get(f"/api/v1/instances?{query}", login)
        assert response.status_code == 200, response.json
        return {item["id"] for item in response.json["items"]}

    rennes, brest = projects[RENNES].id, projects[BREST].id
    assert ids("") == {rennes, brest}
    assert ids("territory=29") == {brest} and ids("territory=UDOGEC-35") == {rennes}
    assert ids("territory=UROGEC-BRETAGNE") == {rennes, brest} and ids("territory=FNOGEC") == {rennes, brest}
    assert ids(f"establishment={RENNES.lower()}") == {rennes}
    assert ids("step=review_project") == {rennes} and ids("step=design_project") == {brest}
    assert ids("status=running&process=hosting_project") == {rennes, brest} and ids("status=completed") == set()
    assert ids("", "gestionnaire.udogec29") == {brest} and ids("", "referent.rennes") == {rennes}
    page = api.get("/api/v1/instances?per_page=1&page=2", "gestionnaire.fnogec").json
    assert page["total"] == 2 and page["page"] == 2 and len(page["items"]) == 1


@pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=101", "status=perdu", "establishment=12",
                                   "territory=%00", "step=a%20b"])
def test_bad_filters_are_400(api, query):
    assert_error(api.get(f"/api/v1/instances?{query}", "pilote"), 400, "bad_request")


def test_instance_detail_has_status_version_tasks_history(api, projects):
    detail = api.get(f"/api/v1/instances/{projects[RENNES].id}", "referent.rennes").json
    assert detail["status"] == "running" and detail["version"] == projects[RENNES].deployment_id
    assert detail["revision"] == projects[RENNES].version
    assert [(t["name"], t["actionable"]) for t in detail["tasks"]] == [("review_project", False)]
    assert [entry["kind"] for entry in detail["history"]] == ["started", "completed"]
    assert detail["history"][1]["data"]["title"] == SAMPLES["design_project"]["title"]
    missing = assert_error(api.get("/api/v1/instances/999999", "referent.brest"), 404, "not_found")
    # Another school's dossier answers exactly as a missing one: its number reveals nothing.
    assert assert_error(api.get(f"/api/v1/instances/{projects[RENNES].id}", "referent.brest"), 404,
                        "not_found") == missing


def test_instances_give_their_current_steps_with_french_labels(api, projects, session):
    review = ready_task(session, projects[RENNES])
    review.due_at = datetime(2027, 4, 5, 18, 0)
    session.commit()
    steps = {item["id"]: item["current_steps"]
             for item in api.get("/api/v1/instances", "gestionnaire.urogec").json["items"]}
    assert steps[projects[RENNES].id] == [{"id": "review_project", "label": "Instruire le projet d'accueil",
                                           "role": "gestionnaire", "place": None, "due_at": "2027-04-05T18:00:00"}]
    (design,) = steps[projects[BREST].id]
    assert {key: design[key] for key in ("id", "label", "role", "place")} == {
        "id": "design_project", "label": "Concevoir et déposer le projet d'accueil", "role": "referent", "place": None}
    detail = api.get(f"/api/v1/instances/{projects[RENNES].id}", "referent.rennes").json
    assert detail["current_steps"] == steps[projects[RENNES].id]
    # Once over, an instance waits at no step.
    terminated = api.post(f"/api/v1/instances/{projects[BREST].id}/terminate", "pilote", {"reason": "Doublon"})
    assert terminated.json["instance"]["current_steps"] == []


def test_version_is_the_process_version_and_revision_counts_changes(api, projects, session):
    rennes = projects[RENNES]
    first = api.get(f"/api/v1/instances/{rennes.id}", "pilote").json
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    files["processes/hosting_project.bpmn"] = files["processes/hosting_project.bpmn"].replace(
        'name="Instruire le projet d\'accueil"', 'name="Instruire le projet"')
    newer = deploy(session, files, actor="analyste")
    session.commit()
    assert newer.id != first["version"]
    migrated = api.post(f"/api/v1/instances/{rennes.id}/migrate", "pilote", {"version": newer.id}).json["instance"]
    assert migrated["version"] == newer.id and migrated["revision"] > first["revision"]
    assert [step["label"] for step in migrated["current_steps"]] == ["Instruire le projet"]
    (listed,) = [item for item in api.get("/api/v1/instances", "pilote").json["items"] if item["id"] == rennes.id]
    assert (listed["version"], listed["revision"]) == (newer.id, migrated["revision"])
    # The Brest project stays on the version it started with.
    assert api.get(f"/api/v1/instances/{projects[BREST].id}", "pilote").json["version"] == first["version"]


def test_starting_checks_role_scope_and_duplicates(api, projects):
    assert_error(api.post("/api/v1/instances", "referent.rennes",
                          json={"process": "hosting_project", "establishment": BREST}), 403, "forbidden")
    conflict = assert_error(api.post("/api/v1/instances", "referent.rennes",
                                     json={"process": "hosting_project", "establishment": RENNES}), 409, "conflict")
    assert str(projects[RENNES].id) in conflict["message"]
    assert_error(api.post("/api/v1/instances", "referent.rennes",
                          json={"process": "hosting_project", "establishment": "0000000A"}), 404, "not_found")
    body = assert_error(api.post("/api/v1/instances", "referent.rennes", json={"process": "volunteer"}),
                        422, "invalid_data")
    assert body["errors"][0]["field"] == "process"
    training = {"process": "training", "structure": "UDOGEC-35"}
    assert_error(api.post("/api/v1/instances", "referent.rennes", json=training), 403, "forbidden")
    started = api.post("/api/v1/instances", "referent.paris", json={"process": "hosting_project",
                                                                     "establishment": "0754025T"})
    assert started.status_code == 201 and started.json["instance"]["tasks"][0]["actionable"] is True


def test_documents_of_another_instance_are_not_reachable(api, projects):
    assert api.get(f"/api/v1/instances/{projects[RENNES].id}/documents", "referent.rennes").json == {"items": []}
    assert_error(api.get(f"/api/v1/instances/{projects[RENNES].id}/documents/1", "referent.rennes"), 404, "not_found")
    assert_error(api.get(f"/api/v1/instances/{projects[BREST].id}/documents", "referent.rennes"), 404, "not_found")


# School files

def test_school_file_with_missing_fields(api):
    pontivy = api.get(f"/api/v1/establishments/{PONTIVY}", "referent.pontivy").json
    assert pontivy["complete"] is False
    assert [item["field"] for item in pontivy["missing"]] == ["siret"]
    assert "support@isidoor.org" in pontivy["missing"][0]["fix"]
    assert {p["role"] for p in pontivy["people"]} == {"referent", "tuteur", "cotuteur"}
    rennes = api.get(f"/api/v1/establishments/{RENNES}", "gestionnaire.udogec35").json
    assert rennes["complete"] is True and rennes["missing"] == [] and rennes["pupil_count"] == 240
    outside = assert_error(api.get(f"/api/v1/establishments/{RENNES}", "gestionnaire.udogec29"), 404, "not_found")
    assert assert_error(api.get("/api/v1/establishments/0000000A", "gestionnaire.udogec29"), 404,
                        "not_found") == outside
    assert_error(api.get("/api/v1/establishments/pas-un-uai", "pilote"), 404, "not_found")


def test_an_administrator_revokes_every_token_of_a_person(app, api):
    api.token("referent.rennes")
    assert api.get("/api/v1/tasks", "referent.rennes").status_code == 200
    result = app.test_cli_runner().invoke(args=["tokens", "revoke", "referent.rennes"])
    assert result.exit_code == 0 and "1 jeton révoqué et 0 session fermée pour Anne Le Goff." in result.output
    assert_error(api.get("/api/v1/tasks", "referent.rennes"), 401, "unauthorized")
