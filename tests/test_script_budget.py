"""Nothing an analyst deploys can take a server down: every script, condition, DMN cell and template runs under a
time and a memory budget; going past it puts the dossier in incident, names the element, keeps what was typed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, Structure, TaskRow
from engine.runtime.budget import Budget, BudgetExceeded
from engine.runtime.deployment import deploy, read_definition_files
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings
from engine.runtime.scripting import RestrictedEnvironment
from engine.validation import validate_files
from engine.views.instructions import render_instructions

from conftest import ROOT, principal_of
from test_processes import do, sample, start_project

# Small budgets keep the suite quick; the defaults (1 s, 64 MB) are checked apart.
QUICK = Budget(seconds=0.2, megabytes=32)

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="definitions_budget"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="budget_probe" name="Sonde de budget" isExecutable="true">
    <bpmn:laneSet id="budget_lanes">
      <bpmn:lane id="gestionnaire" name="Gestionnaire">
        <bpmn:flowNodeRef>budget_start</bpmn:flowNodeRef><bpmn:flowNodeRef>budget_note</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>budget_gateway</bpmn:flowNodeRef><bpmn:flowNodeRef>budget_script</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>budget_end</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="budget_start"><bpmn:outgoing>to_note</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_note" sourceRef="budget_start" targetRef="budget_note" />
    <bpmn:userTask id="budget_note" name="Noter">
      <bpmn:extensionElements>
        <spiffworkflow:variableName>noted</spiffworkflow:variableName>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formJsonSchemaFilename" value="budget_note.schema.json" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>to_note</bpmn:incoming><bpmn:outgoing>to_gateway</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="to_gateway" sourceRef="budget_note" targetRef="budget_gateway" />
    <bpmn:exclusiveGateway id="budget_gateway" name="Condition gourmande ?" default="to_script">
      <bpmn:incoming>to_gateway</bpmn:incoming><bpmn:outgoing>to_end</bpmn:outgoing>
      <bpmn:outgoing>to_script</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="to_end" sourceRef="budget_gateway" targetRef="budget_end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_script" sourceRef="budget_gateway" targetRef="budget_script" />
    <bpmn:scriptTask id="budget_script" name="Calcul de l'analyste">
      <bpmn:incoming>to_script</bpmn:incoming><bpmn:outgoing>to_finish</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_finish" sourceRef="budget_script" targetRef="budget_end" />
    <bpmn:endEvent id="budget_end"><bpmn:incoming>to_end</bpmn:incoming><bpmn:incoming>to_finish</bpmn:incoming>
    </bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""
FORM = '{"type": "object", "properties": {"note": {"title": "Note", "type": "string"}}}'


def probe_files(script: str = "done = True", condition: str = "False") -> dict[str, str]:
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    files["processes/budget_probe.bpmn"] = PROCESS.format(script=script, condition=condition)
    files["forms/budget_note.schema.json"] = FORM
    return files


def noted_probe(session, tmp_path, script: str = "done = True", condition: str = "False"):
    """Deploy the probe, start it for the Udogec 35, submit its form: return the runtime and the instance."""
    deploy(session, probe_files(script, condition), actor="tests")
    session.commit()
    runtime = ProcessRuntime(session, RuntimeSettings(tmp_path / "documents", script_budget=QUICK))
    organiser = principal_of(session, "gestionnaire.udogec35")
    structure = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    instance = runtime.start("budget_probe", organiser, structure=structure)
    (row,) = session.scalars(select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready"))
    return runtime, runtime.complete(row.id, organiser, {"note": "À garder"})


@pytest.mark.parametrize(("script", "limit"), [
    ("while True:\n    pass", "limite de temps"),
    ("total = sum(range(10 ** 12))", "limite de temps"),
    ("x = [0] * (10 ** 9)", "limite de mémoire"),
    ("x = 'a' * 10 ** 10", "limite de mémoire"),
    ("x = 10 ** 10 ** 9", "limite de mémoire"),
    ("rows = []\nfor n in range(10 ** 9):\n    rows.append(' ' * 1000000)", "limite de mémoire"),
    ("rows = [n for n in range(10 ** 9)]", "limite de"),
    ("rows = sorted(range(10 ** 9))", "limite de"),
])
def test_a_script_past_its_budget_puts_the_dossier_in_incident_and_keeps_the_input(session, tmp_path, script, limit):
    runtime, instance = noted_probe(session, tmp_path, script=script)
    assert instance.status == "incident"
    assert instance.incident.startswith("Calcul de l'analyste : le calcul dépasse sa ")
    assert limit in instance.incident
    assert instance.incident_node == "budget_probe:budget_script"
    completed = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                        AuditEvent.kind == "completed"))
    assert completed.data == {"note": "À garder"}
    # The database is free at once: another dossier moves on in the same session.
    project = start_project(runtime, session)
    do(runtime, session, project.id, "referent.rennes", "design_project", sample("design_project"))
    assert project.current_step is not None


def test_a_condition_past_its_budget_names_its_gateway(session, tmp_path):
    _runtime, instance = noted_probe(session, tmp_path, condition="len([0] * 10 ** 9) &gt; 0")
    assert instance.status == "incident"
    assert "limite de mémoire" in instance.incident
    assert instance.incident_node == "budget_probe:budget_gateway"


def test_an_honest_script_runs_to_its_end(session, tmp_path):
    script = "places = [{'number': n + 1} for n in range(3)]\ntotal = 0\nfor place in places:\n    total += place['number']"
    _runtime, instance = noted_probe(session, tmp_path, script=script)
    assert instance.status == "completed", instance.incident


@pytest.mark.parametrize("script", [
    "x = 'ab'.center(10 ** 10)",
    "x = '%1000000000d' % 1",
    "x = f'{1:>1000000000}'",
    "x = 1 << 10 ** 12",
    "n = 2\nn **= 10 ** 10",
    "x = 'a-b'.replace('-', '*' * 50000000)",
])
def test_allocations_in_c_are_refused_before_they_happen(script):
    environment = RestrictedEnvironment(budget=QUICK)
    with pytest.raises(BudgetExceeded, match="limite de mémoire"):
        environment.execute(script, {})


def test_formats_and_operators_still_work_within_the_budget():
    environment = RestrictedEnvironment(budget=QUICK)
    data: dict = {}
    environment.execute("a = '%s-%05d' % ('n', 42)\nb = f'{3.14159:.2f}|{\"x\"!r:>5}'\nc = 7 % 3\n"
                        "d = [0] * 3\ne = 2 ** 10\nf = 1 << 4\ng = 'ab'.center(6, '*')\nn = 1\nn *= 5", data)
    assert (data["a"], data["b"], data["c"], data["d"]) == ("n-00042", "3.14|  'x'", 1, [0, 0, 0])
    assert (data["e"], data["f"], data["g"], data["n"]) == (1024, 16, "**ab**", 5)
    assert environment.evaluate("len(range(10 ** 12))", {}) == 10 ** 12, "a range is only spent when consumed"


def test_the_default_budget_is_a_second_and_64_megabytes():
    assert (Budget().seconds, Budget().megabytes) == (1.0, 64)
    assert RuntimeSettings(ROOT).script_budget == Budget()


@pytest.mark.parametrize("template", [
    "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
    "{{ 'a' * 10 ** 10 }}",
    "{{ 'x'.center(10 ** 9) }}",
    "{{ 'x' | center(10 ** 9) }}",
    "{{ '%1000000000d' | format(1) }}",
])
def test_a_template_past_its_budget_shows_as_written(template):
    assert render_instructions(template, {}) == template


def test_the_validator_warns_of_loops_nothing_bounds():
    files = probe_files(script="n = 0\nwhile n &lt; 10:\n    n = n + 1")
    problems = [problem for problem in validate_files(files).problems if problem.rule == "script.loop"]
    assert [(problem.element_id, problem.severity) for problem in problems] == [("budget_script", "warning")]
    assert "ligne 2" in problems[0].message and "limite de temps" in problems[0].message


def test_the_budget_is_configured_from_the_environment(monkeypatch, tmp_path):
    from webapp.config import runtime_settings, settings_from_environment

    monkeypatch.setenv("SCRIPT_TIME_BUDGET_SECONDS", "2.5")
    monkeypatch.setenv("SCRIPT_MEMORY_BUDGET_MB", "128")
    settings = settings_from_environment(tmp_path)
    assert runtime_settings(settings).script_budget == Budget(2.5, 128)
    monkeypatch.setenv("SCRIPT_TIME_BUDGET_SECONDS", "100000")
    monkeypatch.setenv("SCRIPT_MEMORY_BUDGET_MB", "beaucoup")
    assert runtime_settings(settings_from_environment(tmp_path)).script_budget == Budget(60.0, 64)
