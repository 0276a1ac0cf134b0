"""What analysts deploy must hold together: forms, handlers, lanes and diagrams of `processes/`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from lxml import etree

import handlers
from engine.access import LANE_ROLES
from engine.runtime.deployment import parse_bundle, read_definition_files

ROOT = Path(__file__).resolve().parent.parent
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FLOW_NODES = ("startEvent", "endEvent", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "callActivity",
              "exclusiveGateway", "parallelGateway", "intermediateCatchEvent", "intermediateThrowEvent",
              "boundaryEvent", "task", "manualTask", "subProcess", "inclusiveGateway", "eventBasedGateway")
BPMN_FILES = sorted((ROOT / "processes").glob("*.bpmn"))


@pytest.fixture(scope="module")
def bundle():
    """The definitions of the repository, parsed as a deployment would."""
    return parse_bundle(read_definition_files(ROOT / "processes", ROOT / "forms"))


def all_task_specs(bundle):
    """Every task spec of every process, once."""
    seen = {}
    for process_id, spec in bundle.specs.items():
        for candidate in [spec, *bundle.subprocess_specs[process_id].values()]:
            for task_spec in candidate.task_specs.values():
                seen[(candidate.name, task_spec.name)] = (candidate.name, task_spec)
    return list(seen.values())


def test_the_campaign_processes_are_deployed(bundle):
    assert {"hosting_project", "volunteer", "training"} <= set(bundle.specs)


def test_every_user_task_has_a_valid_form(bundle):
    user_tasks = [(p, t) for p, t in all_task_specs(bundle) if t.__class__.__name__ == "UserTask"]
    assert len(user_tasks) >= 11
    for process_id, task_spec in user_tasks:
        name = task_spec.extensions.get("properties", {}).get("formJsonSchemaFilename")
        assert name, f"{process_id}/{task_spec.bpmn_id} : aucun formulaire déclaré"
        schema = bundle.form(name)
        assert schema is not None, f"{process_id}/{task_spec.bpmn_id} : forms/{name} manquant"
        Draft202012Validator.check_schema(schema)
        for field, prop in schema["properties"].items():
            assert prop.get("title"), f"forms/{name} : le champ {field} n'a pas de titre"


def test_every_service_task_names_a_registered_handler(bundle):
    service_tasks = [(p, t) for p, t in all_task_specs(bundle) if t.__class__.__name__ == "ServiceTask"]
    assert len(service_tasks) >= 7
    for process_id, task_spec in service_tasks:
        assert task_spec.operation_name in handlers.HANDLERS, (
            f"{process_id}/{task_spec.bpmn_id} : gestionnaire « {task_spec.operation_name} » inconnu")


def test_every_user_task_lies_in_a_role_lane(bundle):
    for process_id, task_spec in all_task_specs(bundle):
        if task_spec.__class__.__name__ == "UserTask":
            assert bundle.lane_of(process_id, task_spec.bpmn_id) in LANE_ROLES, f"{process_id}/{task_spec.bpmn_id}"


def test_form_rules_name_existing_user_tasks(bundle):
    user_task_ids = {t.bpmn_id for _p, t in all_task_specs(bundle) if t.__class__.__name__ == "UserTask"}
    assert set(handlers.FORM_RULES) <= user_task_ids


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_diagram_is_complete(path):
    root = etree.parse(str(path)).getroot()
    shapes = [s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)]
    edges = [e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", NS)]
    nodes = [n.get("id") for tag in FLOW_NODES for n in root.iterfind(f".//bpmn:process//bpmn:{tag}", NS)]
    flows = [f.get("id") for f in root.iterfind(".//bpmn:sequenceFlow", NS)]
    lanes = [lane.get("id") for lane in root.iterfind(".//bpmn:lane", NS)]
    participants = [p.get("id") for p in root.iterfind(".//bpmn:participant", NS)]
    assert nodes and flows and lanes
    for element in nodes + lanes + participants:
        assert shapes.count(element) == 1, f"{path.name} : {element} sans forme (ou en double)"
    for flow in flows:
        assert edges.count(flow) == 1, f"{path.name} : flux {flow} sans tracé"
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    assert set(shapes + edges) <= ids, f"{path.name} : une forme désigne un élément inexistant"
    for lane in root.iterfind(".//bpmn:lane", NS):
        assert lane.get("id") in LANE_ROLES, f"{path.name} : couloir {lane.get('id')} sans rôle connu"


def test_forms_directory_holds_only_valid_json():
    for path in (ROOT / "forms").glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))
