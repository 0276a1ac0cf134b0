"""Personal data declared in the forms (`x-personal`): retention, what a deployed version marks, the validator."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from engine.campaign.personal_marks import personal_data_of, read_personal_data
from engine.campaign.retention import DEFAULT, expiry, mark_problem, retention_of
from engine.models import Deployment
from engine.runtime.deployment import parse_bundle, read_definition_files
from engine.validation import validate_files

from conftest import ROOT

FORM = "forms/volunteer_file.schema.json"


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return read_definition_files(ROOT / "processes", ROOT / "forms")


@pytest.fixture(scope="module")
def marks(files):
    return read_personal_data(parse_bundle(files))


@pytest.mark.parametrize(("mark", "retention"), [(True, DEFAULT), (False, None), ({"retention": "P5Y"}, "P5Y"),
                                                 ({"retention": "P1Y6M"}, "P1Y6M")])
def test_well_formed_marks(mark, retention):
    assert mark_problem(mark) is None
    assert retention_of(mark) == retention


@pytest.mark.parametrize(("mark", "said"), [
    ("oui", "vaut true, false ou un objet"),
    ({"retention": "P5Y", "why": "contrat"}, "vaut true, false ou un objet"),
    ({"retention": "2 ans"}, "« 2 ans » illisible"),
    ({"retention": "P"}, "« P » illisible"),
    ({"retention": "PT5H"}, "« PT5H » illisible"),
])
def test_malformed_marks_are_refused_in_french(mark, said):
    assert said in mark_problem(mark)
    assert retention_of(mark) is None


@pytest.mark.parametrize(("retention", "kept_until"), [
    (DEFAULT, date(2029, 8, 31)), ("P2Y", date(2030, 8, 31)), ("P6M", date(2029, 2, 28)),
    ("P1Y1M10D", date(2029, 10, 10)),
])
def test_retention_counts_from_the_end_of_the_campaign(retention, kept_until):
    assert expiry(date(2028, 8, 31), retention, 365) == kept_until


def test_the_forms_of_the_project_mark_the_volunteers_data(marks):
    assert {"first_name", "birth_date", "guardian_email", "identity_document"} <= set(marks.by_task["volunteer_file"])
    assert {"mission_description", "start_date", "tutor"}.isdisjoint(marks.by_task["volunteer_file"])
    assert set(marks.by_task["select_volunteer"]) >= {"candidate_last_name", "candidate_email"}
    # Marked file fields and the documents handlers produce are personal documents.
    assert set(marks.documents) == {"identity_document", "social_criteria_proof", "signed_contract",
                                    "medical_certificate", "contract", "certificate"}
    assert marks.email_fields["volunteer_file"] == ("email", "guardian_email")


def test_variables_are_read_from_the_bpmn_and_the_handlers(marks):
    # `spiffworkflow:variableName` of each user task: nothing written in code.
    assert marks.by_variable["volunteer"] == marks.by_task["volunteer_file"]
    assert marks.by_variable["selection"] == marks.by_task["select_volunteer"]
    assert marks.by_variable["mission_report"] == marks.by_task["end_of_mission_report"]
    # Declared next to the handlers (`personal_result_fields`), under their service task's result variable.
    assert marks.by_variable["contract"] == {"filename": DEFAULT}
    assert marks.by_variable["invitations"] == {"invited": DEFAULT}
    # The early end of a mission is a form of no user task: its data land in the message's variable.
    assert marks.event_fields == marks.by_variable["termination"] == {"reason": DEFAULT}
    # Planning a training invites volunteers: completing it reveals their data, though its form holds none.
    assert {"plan_training", "volunteer_file", "draw_up_contract"} <= marks.revealing_tasks
    assert "design_project" not in marks.revealing_tasks and "review_project" not in marks.revealing_tasks


def test_a_deployed_version_is_read_once(session):
    deployment = session.scalar(select(Deployment))
    assert personal_data_of(deployment) is personal_data_of(deployment)
    assert "volunteer" in personal_data_of(deployment).by_variable


def problems_with(files: dict[str, str], change=None, name: str = FORM, rule: str = "personal.") -> list[str]:
    """The personal-data problems of the project once a form is changed."""
    changed = dict(files)
    if change is not None:
        schema = json.loads(changed[name])
        change(schema)
        changed[name] = json.dumps(schema, ensure_ascii=False)
    return [str(p) for p in validate_files(changed).problems if p.rule.startswith(rule)]


def test_the_project_declares_its_personal_data(files):
    assert problems_with(files) == []


def test_an_unmarked_personal_field_of_a_volunteer_form_is_refused(files):
    def add(schema):
        schema["properties"]["previous_address"] = {"title": "Adresse précédente", "type": "string"}
        schema["properties"]["proof_of_address"] = {"title": "Justificatif", "type": "string", "format": "data-url"}
        schema["properties"]["hobbies"] = {"title": "Loisirs", "type": "string"}

    problems = problems_with(files, add)
    assert problems == [
        f"{FORM} : erreur : le champ « previous_address » semble contenir une adresse : ajoutez \"x-personal\": true "
        "pour qu'il soit exporté et anonymisé avec les données du volontaire (ou \"x-personal\": false s'il ne "
        "contient aucune donnée personnelle).",
        f"{FORM} : erreur : le champ « proof_of_address » semble contenir un document joint : ajoutez \"x-personal\": "
        "true pour qu'il soit exporté et anonymisé avec les données du volontaire (ou \"x-personal\": false s'il ne "
        "contient aucune donnée personnelle).",
    ]


def test_a_field_declared_without_personal_data_passes(files):
    def add(schema):
        schema["properties"]["school_address"] = {"title": "Adresse de l'école", "type": "string", "x-personal": False}

    assert problems_with(files, add) == []


def test_only_forms_declaring_a_volunteer_are_held_to_it(files):
    def add(schema):
        schema["properties"]["contact_email"] = {"title": "Courriel", "type": "string", "format": "email"}

    assert problems_with(files, add, "forms/design_project.schema.json") == []


@pytest.mark.parametrize(("change", "said"), [
    (lambda s: s["properties"]["email"].update({"x-personal": "oui"}),
     "le champ « email » : « x-personal » vaut true, false ou un objet"),
    (lambda s: s["properties"]["email"].update({"x-personal": {"retention": "deux ans"}}),
     "le champ « email » : durée de conservation « deux ans » illisible"),
    (lambda s: s.update({"x-personal-data": "élève"}),
     "« x-personal-data » vaut « élève », que la plateforme ne connaît pas : écrivez « volontaire »."),
])
def test_malformed_declarations_are_refused(files, change, said):
    (problem,) = problems_with(files, change)
    assert problem.startswith(f"{FORM} : erreur : ") and said in problem


def test_personal_fields_need_a_variable_of_their_own(files):
    changed = dict(files)
    changed["processes/volunteer.bpmn"] = files["processes/volunteer.bpmn"].replace(
        "<spiffworkflow:variableName>volunteer</spiffworkflow:variableName>", "")
    (problem,) = problems_with(changed, rule="personal.variable")
    assert "volunteer_file « Constituer le dossier du volontaire »" in problem and "variableName" in problem
