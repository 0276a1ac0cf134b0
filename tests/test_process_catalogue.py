"""The process catalogue is declared in the BPMN files: who starts what, about what, in a campaign or not.

A process an analyst adds (a school's mid-year survey, tests/processes/mid_year_survey.bpmn) is started from the
home page and the API by those the catalogue names, and by nobody else, without a line of code.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from sqlalchemy import select

from engine.access import can_start
from engine.models import Establishment, ProcessInstance, Structure, TaskRow
from engine.runtime.catalogue import current_catalogue, read_catalogue
from engine.runtime.deployment import bundle_for, current_deployment, deploy, read_definition_files
from engine.validation import validate_files

from conftest import ROOT, principal_of

TEST_PROCESSES = Path(__file__).parent / "processes"
RENNES, BREST = "0350781J", "0291652N"
SURVEY = "mid_year_survey"
TASK_LINK = re.compile(r'href="/taches/([0-9a-f-]{36})">([^<]+)</a>')


def project_files() -> dict[str, str]:
    """The project's definition files."""
    return read_definition_files(ROOT / "processes", ROOT / "forms")


def with_survey(files: dict[str, str]) -> dict[str, str]:
    """The files with the mid-year survey an analyst added, and its form."""
    return {**files,
            f"processes/{SURVEY}.bpmn": (TEST_PROCESSES / f"{SURVEY}.bpmn").read_text(encoding="utf-8"),
            "forms/answer_survey.schema.json": (TEST_PROCESSES / "answer_survey.schema.json").read_text(encoding="utf-8")}


@pytest.fixture
def survey(session):
    """The campaign's processes deployed with the survey, as the current version."""
    deploy(session, with_survey(project_files()), actor="tests")
    session.commit()


def school(session, uai: str) -> Establishment:
    """An establishment of the demo directory by its UAI."""
    return session.scalar(select(Establishment).where(Establishment.uai == uai))


# The catalogue of the deployed processes

def test_the_deployed_processes_declare_who_starts_them(session):
    catalogue = current_catalogue(session)
    project, training = catalogue.entry("hosting_project"), catalogue.entry("training")
    assert (project.label, project.startable_by, project.subject, project.campaign) == (
        "Projet d'accueil", ("referent",), "establishment", True)
    assert project.button == "Concevoir le projet d'accueil"
    assert (training.startable_by, training.subject, training.campaign) == (("gestionnaire",), "structure", False)
    # Volunteers' paths and their follow-up are started by the hosting project (call activities), never by hand.
    for called in ("volunteer", "follow_up"):
        entry = catalogue.entry(called)
        assert not entry.startable and entry.campaign and entry.subject == "establishment"
    assert catalogue.campaign_process_id == "hosting_project"
    assert [entry.process_id for entry in catalogue.startable()] == ["hosting_project", "training"]


def test_the_catalogue_is_read_once_per_deployment_with_its_specs(session):
    deployment = current_deployment(session)
    assert current_catalogue(session) is bundle_for(deployment).catalogue is current_catalogue(session)


def test_spiffworkflow_validates_the_properties_on_the_process_element():
    # The BPMN 2.0 schema puts extensionElements first in a process: the XSD validation accepts them there.
    parser = SpiffBpmnParser(validator=VALIDATOR)
    for name, text in with_survey(project_files()).items():
        if name.endswith(".bpmn"):
            parser.add_bpmn_str(text.encode("utf-8"), filename=name)
    assert {"hosting_project", "training", SURVEY} <= set(parser.get_process_ids())


def test_a_process_without_properties_is_started_by_nobody():
    text = (TEST_PROCESSES / "parallel_opinions.bpmn").read_text(encoding="utf-8")
    entry = read_catalogue({"processes/parallel_opinions.bpmn": text}).entry("parallel_opinions")
    assert entry.label == "Avis croisés (tests)" and not entry.startable and entry.subject == "none"
    assert entry.button == "Démarrer : Avis croisés (tests)"


# The validator

@pytest.mark.parametrize("before, after, message", [
    ('name="startableBy" value="referent"', 'name="startableBy" value="referent, directeur"',
     "Propriété startableBy : rôle « directeur » inconnu ; rôles possibles : referent, tuteur, cotuteur, "
     "gestionnaire, process_owner."),
    ('name="subject" value="establishment"', 'name="subject" value="ecole"',
     "Propriété subject : valeur « ecole » inconnue ; valeurs possibles : establishment, structure, none."),
    ('name="campaign" value="false"', 'name="campaign" value="oui"',
     "Propriété campaign : valeur « oui » inconnue ; valeurs possibles : true, false."),
    ('name="startLabel"', 'name="startTitle"',
     "Propriété « startTitle » inconnue sur un processus ; propriétés possibles : startableBy, subject, campaign, "
     "startLabel."),
])
def test_the_validator_refuses_unknown_roles_subjects_and_values(before, after, message):
    files = with_survey(project_files())
    name = f"processes/{SURVEY}.bpmn"
    files[name] = files[name].replace(before, after)
    report = validate_files(files, [name])
    found = [problem for problem in report.errors if problem.rule == "catalogue.property"]
    assert [(p.file, p.element_id, p.element_name, p.message) for p in found] == [
        (name, SURVEY, "Enquête de mi-année", message)]
    assert found[0].line is not None and f"{SURVEY} « Enquête de mi-année » : {message}" in str(found[0])


def test_the_project_files_have_a_valid_catalogue():
    report = validate_files(with_survey(project_files()))
    assert not [problem for problem in report.problems if problem.rule.startswith("catalogue.")]


def test_two_campaign_processes_by_establishment_are_warned_about():
    files = with_survey(project_files())
    name = f"processes/{SURVEY}.bpmn"
    files[name] = files[name].replace('name="campaign" value="false"', 'name="campaign" value="true"')
    warned = [p for p in validate_files(files, [name]).warnings if p.rule == "catalogue.campaign_process"]
    assert len(warned) == 1 and "suivent « hosting_project »" in warned[0].message
    assert read_catalogue(files).campaign_process_id == "hosting_project"


# Who may start what

def test_can_start_reads_role_and_scope_from_the_catalogue(session):
    catalogue = current_catalogue(session)
    project, training = catalogue.entry("hosting_project"), catalogue.entry("training")
    rennes, brest = school(session, RENNES), school(session, BREST)
    udogec35 = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    referent, tutor = principal_of(session, "referent.rennes"), principal_of(session, "tuteur.rennes")
    manager, owner = principal_of(session, "gestionnaire.udogec35"), principal_of(session, "pilote")
    assert can_start(referent, project, rennes, None)
    assert not can_start(referent, project, brest, None)
    assert not can_start(tutor, project, rennes, None) and not can_start(manager, project, rennes, None)
    assert not can_start(referent, project, None, udogec35), "a hosting project is about an establishment"
    assert can_start(manager, training, None, udogec35) and not can_start(referent, training, None, udogec35)
    assert not can_start(owner, training, None, udogec35)
    assert not can_start(owner, catalogue.entry("volunteer"), rennes, None)
    assert not can_start(referent, None, rennes, None)


# A process an analyst adds: the mid-year survey

def test_a_referent_starts_the_survey_from_the_home_page_and_answers_it(survey, browser, session):
    browser.login("referent.rennes")
    home = browser.client.get("/").get_data(as_text=True)
    assert f'action="/dossiers/demarrer/{SURVEY}"' in home
    assert "Répondre à l&#39;enquête de mi-année — " in home
    started = browser.post_form(f"/dossiers/demarrer/{SURVEY}", {"establishment_id": school(session, RENNES).id},
                                page="/")
    assert started.status_code == 302 and "/taches/" in started.headers["Location"]
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.process_id == SURVEY))
    assert instance.establishment.uai == RENNES and instance.title.startswith("Enquête de mi-année — ")
    table = browser.client.get("/").get_data(as_text=True).partition('id="titre-taches"')[2]
    task_ids = [task_id for task_id, title in TASK_LINK.findall(table) if html.unescape(title) == "Répondre à l'enquête"]
    assert len(task_ids) == 1 and started.headers["Location"].endswith(task_ids[0])
    answered = browser.post_form(f"/taches/{task_ids[0]}", {"volunteers_doing_well": "oui",
                                                            "comment": "Un tutorat plus régulier."})
    assert answered.status_code == 302, answered.get_data(as_text=True)[:2000]
    session.refresh(instance)
    assert instance.status == "completed"
    table = browser.client.get("/").get_data(as_text=True).partition('id="titre-taches"')[2]
    assert task_ids[0] not in {task_id for task_id, _title in TASK_LINK.findall(table)}


def test_a_gestionnaire_may_not_start_the_survey(survey, browser, session):
    browser.login("gestionnaire.udogec35")
    home = browser.client.get("/").get_data(as_text=True)
    assert SURVEY not in home
    refused = browser.post_form(f"/dossiers/demarrer/{SURVEY}", {"establishment_id": school(session, RENNES).id},
                                page="/")
    assert refused.status_code == 403
    assert "Seuls les référents de l&#39;établissement peuvent démarrer « Enquête de mi-année »." in (
        refused.get_data(as_text=True))
    assert session.scalar(select(ProcessInstance).where(ProcessInstance.process_id == SURVEY)) is None


def test_the_survey_through_the_api(survey, api, session):
    listed = api.get("/api/v1/processes", "referent.rennes").json["items"]
    entry = next(item for item in listed if item["id"] == SURVEY)
    assert entry == {"id": SURVEY, "label": "Enquête de mi-année", "start_label": "Répondre à l'enquête de mi-année",
                     "subject": "establishment", "campaign": False, "startable_by": ["referent"],
                     "establishments": [{"uai": RENNES, "name": school(session, RENNES).name}],
                     "any_establishment": False, "structures": []}
    assert SURVEY not in {item["id"] for item in api.get("/api/v1/processes", "gestionnaire.udogec35").json["items"]}

    refused = api.post("/api/v1/instances", "gestionnaire.udogec35", json={"process": SURVEY, "establishment": RENNES})
    assert refused.status_code == 403 and "Enquête de mi-année" in refused.json["message"]
    outside = api.post("/api/v1/instances", "referent.rennes", json={"process": SURVEY, "establishment": BREST})
    assert outside.status_code == 403
    # Outside campaigns, a school may answer again: each start is a new dossier.
    for _ in range(2):
        started = api.post("/api/v1/instances", "referent.rennes", json={"process": SURVEY, "establishment": RENNES})
        assert started.status_code == 201, started.get_data(as_text=True)
    instance = started.json["instance"]
    assert instance["process"] == SURVEY and instance["establishment"]["uai"] == RENNES
    task = next(task for task in instance["tasks"] if task["actionable"])
    assert task["name"] == "answer_survey" and task["role"] == "referent"
    inbox = api.get("/api/v1/tasks", "referent.rennes").json["items"]
    assert task["id"] in {item["id"] for item in inbox}
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", "referent.rennes",
                    json={"volunteers_doing_well": "en partie", "comment": "Plus de réunions d'équipe."})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.json["instance"]["status"] == "completed"
    assert session.scalar(select(TaskRow.state).where(TaskRow.id == task["id"])) == "completed"


@pytest.mark.parametrize("body, status, fragment", [
    ({"process": "inconnu", "establishment": RENNES}, 404, "n'existe pas dans la version déployée"),
    ({"process": "volunteer", "establishment": RENNES}, 422, "ne se démarre pas à la main"),
    ({"process": SURVEY, "structure": "UDOGEC-35"}, 422, "ne se démarre pas pour une structure"),
    ({"process": SURVEY}, 422, "un code UAI"),
    ({"process": 3, "establishment": RENNES}, 422, "GET /api/v1/processes"),
])
def test_the_api_says_why_a_start_is_refused(survey, api, body, status, fragment):
    response = api.post("/api/v1/instances", "referent.rennes", json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    answer = response.json
    assert fragment in " ".join([answer["message"], *(error["message"] for error in answer["errors"])])


def deploy_survey_declared(session, *properties: tuple[str, str]) -> None:
    """Deploy the survey with other catalogue properties, as the current version."""
    files = with_survey(project_files())
    name = f"processes/{SURVEY}.bpmn"
    declared = "".join(f'<spiffworkflow:property name="{key}" value="{value}" />' for key, value in properties)
    files[name] = re.sub(r"<spiffworkflow:properties>\s*<spiffworkflow:property name=\"startableBy\".*?</spiffworkflow:properties>",
                         f"<spiffworkflow:properties>{declared}</spiffworkflow:properties>", files[name], count=1,
                         flags=re.S)
    deploy(session, files, actor="tests")
    session.commit()


def test_a_process_about_nothing_is_started_by_whoever_holds_the_role(session, api, browser):
    deploy_survey_declared(session, ("startableBy", "process_owner"), ("subject", "none"))
    assert [item["id"] for item in api.get("/api/v1/processes", "pilote").json["items"]] == [SURVEY]
    assert SURVEY not in {item["id"] for item in api.get("/api/v1/processes", "referent.rennes").json["items"]}
    started = api.post("/api/v1/instances", "pilote", json={"process": SURVEY})
    assert started.status_code == 201, started.get_data(as_text=True)
    assert started.json["instance"]["establishment"] is None and started.json["instance"]["structure"] is None
    assert started.json["instance"]["title"] == "Enquête de mi-année"
    assert api.post("/api/v1/instances", "referent.rennes", json={"process": SURVEY}).status_code == 403
    browser.login("pilote")
    home = browser.client.get("/").get_data(as_text=True)
    assert f'action="/dossiers/demarrer/{SURVEY}"' in home and 'name="uai"' not in home


def test_a_campaign_process_about_a_structure_is_started_once_per_campaign(session, api, browser):
    deploy_survey_declared(session, ("startableBy", "gestionnaire"), ("subject", "structure"), ("campaign", "true"))
    first = api.post("/api/v1/instances", "gestionnaire.udogec35", json={"process": SURVEY, "structure": "UDOGEC-35"})
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.json["instance"]["campaign"] == "2027-2028", "the open campaign's school year"
    again = api.post("/api/v1/instances", "gestionnaire.udogec35", json={"process": SURVEY, "structure": "UDOGEC-35"})
    assert again.status_code == 409
    assert again.json["message"] == ("« Enquête de mi-année » : un dossier existe déjà pour cette campagne "
                                     f"(dossier {first.json['instance']['id']}).")
    browser.login("gestionnaire.udogec35")
    shown = browser.post_form(f"/dossiers/demarrer/{SURVEY}", {"structure": "UDOGEC-35"}, page="/")
    assert shown.status_code == 302 and shown.headers["Location"].endswith(f"/dossiers/{first.json['instance']['id']}")
    assert api.post("/api/v1/instances", "gestionnaire.udogec29",
                    json={"process": SURVEY, "structure": "UDOGEC-35"}).status_code == 403


# No process id in the code

# The process ids of the deployed files, and words that are also other things in the code.
NOT_PROCESS_IDS = {
    ("engine/campaign/gdpr.py", "volunteer"): "the volunteer's part of a personal data export",
    ("engine/models/follow_up.py", "volunteer"): "who asked for an early end: the volunteer",
}


def test_no_process_id_is_written_in_the_engine_nor_the_web_app():
    ids = set(read_catalogue(project_files()).entries)
    quoted = re.compile("[\"'](" + "|".join(sorted(ids)) + ")[\"']")
    found = []
    for folder in ("engine", "webapp"):
        for path in sorted((ROOT / folder).rglob("*")):
            relative = path.relative_to(ROOT).as_posix()
            if path.suffix not in (".py", ".html", ".js") or relative.startswith("engine/demo/"):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                found += [f"{relative}:{number}: {line.strip()}" for match in quoted.finditer(line)
                          if (relative, match.group(1)) not in NOT_PROCESS_IDS]
    assert not found, "\n".join(found)
