"""Editing in the browser: the editor pages, saving as a staged deployment, the form preview, the scenarios."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from scenario_run_support import finish_scenario_runs
from sqlalchemy import func, select

from engine.models import Deployment, StagedDeployment
from engine.runtime.deployment import current_deployment
from engine.scenarios import load_scenario

from conftest import csrf_token

ROOT = Path(__file__).resolve().parent.parent
EDITOR = "/administration/processus/editeur"
HOSTING = f"{EDITOR}/processes/hosting_project.bpmn"


def token_of(client, path: str = HOSTING) -> str:
    """The CSRF token an editor page gives its scripts (meta csrf-token)."""
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"pas de jeton CSRF sur {path}"
    return match.group(1)


def post_json(client, path: str, body: dict, token: str):
    """A call of the editor's scripts: JSON with the CSRF token in the X-CSRFToken header."""
    return client.post(path, data=json.dumps(body), content_type="application/json", headers={"X-CSRFToken": token})


def editor_data(page: str) -> dict:
    """The JSON the editor page gives its scripts."""
    match = re.search(r'data-editor="([^"]+)"', page)
    assert match
    return json.loads(match.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&#39;", "'")
                      .replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


@pytest.fixture
def owner(browser):
    """The process owner, logged in."""
    browser.login("pilote")
    return browser


def test_the_versions_page_links_each_file_to_its_editor(owner):
    page = owner.client.get("/administration/processus/").get_data(as_text=True)
    assert f'href="{HOSTING}"' in page
    assert f'href="{EDITOR}/processes/volunteer_quota.dmn"' in page
    assert f'href="{EDITOR}/forms/design_project.schema.json"' in page
    assert "uischema.json\"" not in page.split("Modifier dans le navigateur")[1].split("</details>")[0]


def test_the_bpmn_editor_offers_forms_decisions_handlers_and_roles(owner):
    response = owner.client.get(HOSTING)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "bpmn-modeler.production.min.js" in page and "process-editor-panel.js" in page
    data = editor_data(page)
    assert data["name"] == "hosting_project.bpmn" and 'id="design_project"' in data["content"]
    assert "design_project.schema.json" in data["schemas"] and "volunteer_quota" in data["decisions"]
    assert data["lane_roles"] and "referent" in data["lane_roles"] and data["staged"] is None
    assert "design_project.uischema.json" in data["contexts"]
    handlers = owner.client.get(data["handlers_url"]).get_json()
    check = next(h for h in handlers if h["name"] == "check_school_file")
    assert check["parameters"][0]["name"] == "establishment_id" and check["parameters"][0]["required"] is True


def test_dmn_and_form_editors_open(owner):
    dmn = owner.client.get(f"{EDITOR}/processes/volunteer_quota.dmn").get_data(as_text=True)
    assert "dmn-modeler.production.min.js" in dmn and "dmn-editor.js" in dmn
    form = editor_data(owner.client.get(f"{EDITOR}/forms/design_project.schema.json").get_data(as_text=True))
    assert form["ui_name"] == "design_project.uischema.json" and '"ui:order"' in form["ui_content"]


@pytest.mark.parametrize("path", ["/processes/unknown.bpmn", "/forms/x.uischema.json", "/../instance/x.bpmn",
                                  "/processes/notes.txt"])
def test_only_definition_files_open(owner, path):
    assert owner.client.get(EDITOR + path).status_code == 404


@pytest.mark.parametrize("login", ["gestionnaire.fnogec", "referent.rennes"])
def test_only_process_owners_edit(browser, login):
    browser.login(login)
    assert browser.client.get(HOSTING).status_code == 403
    token = csrf_token(browser.client, "/")
    refused = post_json(browser.client, f"{EDITOR}/enregistrement", {"files": {"a.bpmn": "x"}}, token)
    assert refused.status_code == 403


def test_a_post_without_csrf_token_is_refused(owner):
    response = owner.client.post(f"{EDITOR}/apercu", data=json.dumps({"schema": "{}"}),
                                  content_type="application/json")
    assert response.status_code == 400


def test_saving_stages_without_deploying_then_continues(owner, session):
    versions = session.scalar(select(func.count()).select_from(Deployment))
    token = token_of(owner.client)
    xml = (ROOT / "processes" / "hosting_project.bpmn").read_text(encoding="utf-8")
    renamed = xml.replace('name="Instruire le projet d\'accueil"', 'name="Examiner le projet d\'accueil"')
    first = post_json(owner.client, f"{EDITOR}/enregistrement", {"files": {"hosting_project.bpmn": renamed}}, token)
    assert first.status_code == 200, first.get_json()
    staged = first.get_json()
    assert staged["status"] == "pending" and staged["files"] == ["hosting_project.bpmn"]
    assert staged["review_url"] == f"/administration/processus/envois/{staged['id']}"

    # The form saved next is staged with the diagram: one review deploys both.
    schema = json.loads((ROOT / "forms" / "design_project.schema.json").read_text(encoding="utf-8"))
    schema["properties"]["title"]["title"] = "Titre de la mission"
    second = post_json(owner.client, f"{EDITOR}/enregistrement",
                       {"files": {"design_project.schema.json": json.dumps(schema)}, "envoi": staged["id"]}, token)
    assert second.status_code == 200
    assert second.get_json()["files"] == ["design_project.schema.json", "hosting_project.bpmn"]
    session.expire_all()
    assert session.get(StagedDeployment, staged["id"]).status == "discarded"
    assert session.scalar(select(func.count()).select_from(Deployment)) == versions, "nothing deployed"

    # Reopening the diagram from the staged deployment shows the saved version.
    page = owner.client.get(f"{HOSTING}?envoi={second.get_json()['id']}").get_data(as_text=True)
    assert "Examiner le projet" in editor_data(page)["content"]
    assert f"Vous reprenez l'envoi n° {second.get_json()['id']}" in page


def test_saving_a_broken_diagram_answers_its_problems(owner, session):
    token = token_of(owner.client)
    xml = (ROOT / "processes" / "hosting_project.bpmn").read_text(encoding="utf-8")
    broken = xml.replace("<spiffworkflow:calledDecisionId>volunteer_quota</spiffworkflow:calledDecisionId>",
                         "<spiffworkflow:calledDecisionId>no_such_decision</spiffworkflow:calledDecisionId>")
    response = post_json(owner.client, f"{EDITOR}/enregistrement", {"files": {"hosting_project.bpmn": broken}}, token)
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["status"] == "invalid"
    problem = next(p for p in answer["problems"] if p["element_id"] == "determine_quota")
    assert problem["error"] and problem["file"] == "hosting_project.bpmn" and "no_such_decision" in problem["message"]
    refused = post_json(owner.client, answer["scenarios_url"], {}, token)
    assert refused.status_code == 422 and "corrigez-les" in refused.get_json()["message"]


def test_saving_nothing_is_refused_in_french(owner):
    response = post_json(owner.client, f"{EDITOR}/enregistrement", {"files": {}}, token_of(owner.client))
    assert response.status_code == 422
    assert response.get_json()["message"] == "Rien à enregistrer : l'éditeur n'a envoyé aucun fichier."


def test_a_deployed_staging_is_not_continued(owner, session):
    token = token_of(owner.client)
    xml = (ROOT / "processes" / "hosting_project.bpmn").read_text(encoding="utf-8")
    staged = post_json(owner.client, f"{EDITOR}/enregistrement",
                       {"files": {"hosting_project.bpmn": xml.replace("Projet d'accueil", "Projet")}}, token).get_json()
    session.get(StagedDeployment, staged["id"]).status = "deployed"
    session.commit()
    again = post_json(owner.client, f"{EDITOR}/enregistrement",
                      {"files": {"hosting_project.bpmn": xml}, "envoi": staged["id"]}, token)
    assert again.status_code == 409 and "n'est plus modifiable" in again.get_json()["message"]


def test_the_preview_renders_with_the_task_page_macros(owner):
    schema = {"type": "object", "required": ["motif"], "properties": {
        "motif": {"type": "string", "title": "Motif de la demande", "enum": ["a", "b"]},
        "date_visite": {"type": "string", "format": "date", "title": "Date de la visite"}}}
    ui = {"ui:order": ["date_visite", "motif"]}
    response = post_json(owner.client, f"{EDITOR}/apercu", {"schema": json.dumps(schema), "uischema": json.dumps(ui)},
                         token_of(owner.client))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index('type="date"') < page.index('<select id="champ-motif"')
    assert "Motif de la demande" in page and "(obligatoire)" in page


@pytest.mark.parametrize(("schema", "message"), [
    ('{"type": "object", "properties": {', "Le schéma n'est pas du JSON valide (ligne 1, colonne 35)."),
    ("[1, 2]", "Le schéma doit être un objet JSON ({ … })."),
    ('{"type": "objet"}', "Le schéma n'est pas un JSON Schema valide (à l'endroit « type »)."),
])
def test_the_preview_refuses_bad_json_in_french(owner, schema, message):
    response = post_json(owner.client, f"{EDITOR}/apercu", {"schema": schema}, token_of(owner.client))
    assert response.status_code == 422
    assert response.get_json()["message"] == message


def test_scenarios_run_on_the_staged_files(owner, session):
    token = token_of(owner.client)
    dmn = (ROOT / "processes" / "volunteer_quota.dmn").read_text(encoding="utf-8")
    staged = post_json(owner.client, f"{EDITOR}/enregistrement",
                       {"files": {"volunteer_quota.dmn": dmn.replace("300", "200")}}, token).get_json()
    assert staged["status"] == "pending", staged["problems"]
    started = post_json(owner.client, staged["scenarios_url"], {}, token)
    assert started.status_code == 202
    assert started.get_json()["status"] == "running"
    assert started.get_json()["message"] == "Préparation de la copie jetable de la plateforme…"
    assert finish_scenario_runs() == 1
    result = owner.client.get(started.get_json()["status_url"])
    assert result.status_code == 200
    outcomes = result.get_json()
    assert outcomes["status"] == "done"
    # The quota table is part of the hosting project: its scenarios were played first.
    concerned = {path.name for path in (ROOT / "processes" / "scenarios").glob("*.yaml")
                 if load_scenario(path).process == "hosting_project"}
    assert outcomes["processes"] == ["Projet d'accueil"] and outcomes["first"] == len(concerned) > 0
    assert {o["file"] for o in outcomes["outcomes"][:outcomes["first"]]} == concerned
    assert outcomes["total"] == len(list((ROOT / "processes" / "scenarios").glob("*.yaml")))
    assert 0 < outcomes["passed"] < outcomes["total"], "a lower threshold changes the quotas some scenarios expect"
    failed = [o for o in outcomes["outcomes"] if not o["passed"]]
    assert all(o["explanation"] for o in failed)
    session.expire_all()
    assert current_deployment(session).files["processes/volunteer_quota.dmn"] == dmn
