"""Scenario coverage: tasks reached, gateway branches taken, decision rules retained, boundary values tried."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from scenario_run_support import finish_scenario_runs
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.runtime.decisions import DECISION_WATCHER, BundleDecisions
from engine.runtime.deployment import parse_bundle, read_definition_files
from engine.runtime.scripting import CampaignScriptEngine
from engine.runtime.staging import stage_files
from engine.scenarios import ScenarioCoverage, run_scenarios
from engine.scenarios.coverage_items import boundary_values, read_catalogue

from conftest import principal_of

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "processes" / "scenarios"
LIMITS = [SCENARIOS / "hosting_project_quota_limit_299.yaml", SCENARIOS / "hosting_project_quota_limit_300.yaml"]

SMALL_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="small_definitions"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="small" name="Petit processus" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="flow_start" sourceRef="start" targetRef="grade" />
    <bpmn:businessRuleTask id="grade" name="Classer">
      <bpmn:extensionElements>
        <spiffworkflow:calledDecisionId>grading</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="flow_grade" sourceRef="grade" targetRef="size_gateway" />
    <bpmn:exclusiveGateway id="size_gateway" name="Petit ?" default="flow_other" />
    <bpmn:sequenceFlow id="flow_small" name="Petit" sourceRef="size_gateway" targetRef="handle_small">
      <bpmn:conditionExpression>grade == "small"</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="flow_other" sourceRef="size_gateway" targetRef="handle_other" />
    <bpmn:userTask id="handle_small" name="Traiter un petit" />
    <bpmn:userTask id="handle_other" name="Traiter un autre" />
    <bpmn:sequenceFlow id="flow_small_end" sourceRef="handle_small" targetRef="end" />
    <bpmn:sequenceFlow id="flow_other_end" sourceRef="handle_other" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""

SMALL_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="grading_definitions" name="Classement"
    namespace="http://bpmn.io/schema/dmn">
  <decision id="grading" name="Classement">
    <decisionTable id="grading_table" hitPolicy="UNIQUE">
      <input id="input_size" label="Taille">
        <inputExpression id="input_size_expression" typeRef="integer"><text>size</text></inputExpression>
      </input>
      <output id="output_grade" name="grade" typeRef="string" />
      <rule id="rule_small">
        <inputEntry id="rule_small_size"><text>&lt; 10</text></inputEntry>
        <outputEntry id="rule_small_grade"><text>"small"</text></outputEntry>
      </rule>
      <rule id="rule_medium">
        <inputEntry id="rule_medium_size"><text>10 &lt;= ? &lt;= 20</text></inputEntry>
        <outputEntry id="rule_medium_grade"><text>"medium"</text></outputEntry>
      </rule>
      <rule id="rule_large">
        <inputEntry id="rule_large_size"><text>&gt; 20</text></inputEntry>
        <outputEntry id="rule_large_grade"><text>"large"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""
SMALL_FILES = {"processes/small.bpmn": SMALL_BPMN, "processes/grading.dmn": SMALL_DMN}


@pytest.mark.parametrize(("cell", "integer", "values"), [
    ("< 300", True, {299, 300}),
    (">= 300", True, {299, 300}),
    ("<= 2", True, {2, 3}),
    ("> 2", True, {2, 3}),
    ("[1..10]", True, {0, 1, 10, 11}),
    ("]1..10[", True, {1, 2, 9, 10}),
    ("10 <= ? <= 20", True, {9, 10, 20, 21}),
    ("== 5", True, {5}),
    ("5", True, {5}),
    ("< 2.5", False, {2.5}),
    ('"udogec"', True, set()),
    ("True", True, set()),
])
def test_boundary_values_of_a_cell(cell, integer, values):
    assert boundary_values(cell, integer) == values


def test_the_catalogue_lists_tasks_branches_rules_and_limits():
    catalogue = read_catalogue(SMALL_FILES)
    process, table = catalogue.sections
    assert [item.key for item in process.items] == [
        ("flow", "small", "flow_small"), ("flow", "small", "flow_other"),
        ("task", "small", "handle_small"), ("task", "small", "handle_other")]
    assert [item.label for item in table.items] == [
        "règle 1 (Taille < 10)", "règle 2 (10 <= Taille <= 20)", "règle 3 (Taille > 20)",
        "Taille : valeur limite 9", "Taille : valeur limite 10", "Taille : valeur limite 20",
        "Taille : valeur limite 21"]
    assert catalogue.decisions == {"grading_table": "grading"}
    assert catalogue.flows[("small", "size_gateway", "handle_other")] == "flow_other"


def test_manual_and_untyped_tasks_are_manual_tasks_to_reach():
    bpmn = SMALL_BPMN.replace('<bpmn:userTask id="handle_small" name="Traiter un petit" />',
                              '<bpmn:manualTask id="handle_small" name="Traiter un petit" />'
                              ).replace('<bpmn:userTask id="handle_other" name="Traiter un autre" />',
                                        '<bpmn:task id="handle_other" name="Traiter un autre" />')
    process = read_catalogue({"processes/small.bpmn": bpmn}).sections[0]
    assert [item.label for item in process.items if item.key[0] == "task"] == [
        "tâche manuelle « Traiter un petit » (handle_small)", "tâche manuelle « Traiter un autre » (handle_other)"]


def run_small(size: int) -> BpmnWorkflow:
    """The small process run with `size` up to its user task."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(SMALL_BPMN.encode("utf-8"))
    parser.add_dmn_str(SMALL_DMN.encode("utf-8"))
    workflow = BpmnWorkflow(parser.get_spec("small"), script_engine=CampaignScriptEngine())
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data["size"] = size
    workflow.do_engine_steps()
    return workflow


def test_coverage_counts_what_a_run_reached_and_says_what_it_missed():
    coverage = ScenarioCoverage(SMALL_FILES)
    coverage.observe(run_small(9))
    report = coverage.report()
    assert (report.done, report.total, report.percent) == (4, 11, 36)
    assert report.lines() == [
        "Couverture des scénarios : 4 éléments sur 11 (36 %).",
        "  Processus small (Petit processus) : 2 sur 4",
        "    - Processus small, passage « Petit ? » → « Traiter un autre » (par défaut) : jamais emprunté",
        "    - Processus small, tâche « Traiter un autre » (handle_other) : jamais atteinte",
        "  Table grading (Classement) : 2 sur 7",
        "    - Table grading, règle 2 (10 <= Taille <= 20) : jamais retenue",
        "    - Table grading, règle 3 (Taille > 20) : jamais retenue",
        "    - Table grading, Taille : valeur limite 10 jamais essayée",
        "    - Table grading, Taille : valeur limite 20 jamais essayée",
        "    - Table grading, Taille : valeur limite 21 jamais essayée",
    ]
    # Saved again, the same run counts once; other runs add what they reached.
    for size in (10, 21, 21):
        coverage.observe(run_small(size))
    missing = [line for section in coverage.report().sections for line in section.missing]
    assert missing == ["Table grading, Taille : valeur limite 20 jamais essayée"]


def test_a_table_evaluated_outside_a_workflow_counts_while_watched():
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    coverage = ScenarioCoverage(files)
    decisions = BundleDecisions(parse_bundle(files))
    decisions.decide("volunteer_quota", {"school_file": {"pupil_count": 120}})
    token = DECISION_WATCHER.set(coverage.decided)
    try:
        assert decisions.decide("volunteer_quota", {"school_file": {"pupil_count": 299}}) == {"quota": 1}
    finally:
        DECISION_WATCHER.reset(token)
    decisions.decide("volunteer_quota", {"school_file": {"pupil_count": 300}})
    (quota,) = [s for s in coverage.report().sections if s.section.ident == "volunteer_quota"]
    assert [(item.label, covered) for item, covered in quota.rows] == [
        ("règle 1 (Effectif d'élèves < 300)", True), ("règle 2 (Effectif d'élèves >= 300)", False),
        ("Effectif d'élèves : valeur limite 299", True), ("Effectif d'élèves : valeur limite 300", False)]


def test_the_limit_scenarios_cover_the_quota_table_and_catch_a_moved_threshold():
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    coverage = ScenarioCoverage(files)
    outcomes = run_scenarios(LIMITS, files, coverage=coverage)
    assert [outcome.passed for outcome in outcomes] == [True, True], [o.report() for o in outcomes]
    (quota,) = [s for s in coverage.report().sections if s.section.ident == "volunteer_quota"]
    assert (quota.done, quota.total) == (4, 4)

    table = files["processes/volunteer_quota.dmn"]
    moved = table.replace("&lt; 300", "&lt; 250").replace("&gt;= 300", "&gt;= 250")
    assert moved.count("250") == 2
    outcomes = run_scenarios(LIMITS, {**files, "processes/volunteer_quota.dmn": moved})
    failed = [outcome for outcome in outcomes if not outcome.passed]
    assert [outcome.path.name for outcome in failed] == ["hosting_project_quota_limit_299.yaml"]
    assert "la saisie devait être refusée" in failed[0].explanation


def test_cli_prints_the_coverage_after_the_results_and_fails_only_below_a_minimum(tmp_path):
    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}", "SECRET_KEY": "test"})
    runner = app.test_cli_runner()
    try:
        result = runner.invoke(args=["processes", "test", "--coverage", str(LIMITS[1])])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[:3] == ["PASS  Limite du quota, 300 élèves donnent deux places (Rennes) "
                             "(hosting_project_quota_limit_300.yaml)", "1 scénario : 1 réussi, 0 en échec.", ""]
        assert lines[3].startswith("Couverture des scénarios : ")
        assert "  Table volunteer_quota (Quota de volontaires) : 2 sur 4" in lines
        assert "    - Table volunteer_quota, règle 1 (Effectif d'élèves < 300) : jamais retenue" in lines
        assert "    - Table volunteer_quota, Effectif d'élèves : valeur limite 299 jamais essayée" in lines
        result = runner.invoke(args=["processes", "test", "--min-coverage", "90", str(LIMITS[1])])
        assert result.exit_code == 1
        assert result.output.splitlines()[-1].endswith("sous le minimum demandé de 90 %.")
    finally:
        app.extensions["db_engine"].dispose()


def test_the_coverage_page_plays_the_scenarios_for_process_owners(browser, caplog):
    browser.login("pilote")
    page = browser.client.get("/administration/processus/couverture")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Jouer les scénarios" in text and "hosting_project_quota_limit_300.yaml" in text
    started = browser.post_form("/administration/processus/couverture",
                                {"scenario": "hosting_project_quota_limit_300.yaml"})
    assert started.status_code == 303 and "/administration/processus/couverture?execution=" in started.location
    assert finish_scenario_runs() == 1
    response = browser.client.get(started.location)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "1 scénario joué, 0 en échec." in text and "data-run-status" not in text
    # The throwaway platform's task completions are not logged as this request's.
    assert not [record for record in caplog.records if "accomplie" in record.getMessage()]
    assert "Effectif d&#39;élèves : valeur limite 299" in text and "jamais essayée" in text
    assert 'class="row-uncovered"' in text and "figure-hosting_project" in text
    assert browser.client.get("/administration/processus/couverture?envoi=999999").status_code == 404
    response = browser.post_form("/administration/processus/couverture", {"scenario": "inconnu.yaml"})
    assert response.status_code == 422 and "Aucun scénario ne s'appelle « inconnu.yaml »" in response.get_data(
        as_text=True)


def test_the_coverage_page_plays_an_upload_before_it_is_deployed(browser, session):
    table = (ROOT / "processes" / "volunteer_quota.dmn").read_text(encoding="utf-8")
    moved = table.replace("&lt; 300", "&lt; 250").replace("&gt;= 300", "&gt;= 250").encode("utf-8")
    pilote = principal_of(session, "pilote")
    staged = stage_files(session, pilote, [("volunteer_quota.dmn", moved)], datetime(2027, 3, 15, 10, 0))
    broken = stage_files(session, pilote, [("volunteer_quota.dmn", b"<definitions>")], datetime(2027, 3, 15, 10, 0))
    browser.login("pilote")
    review = browser.client.get(f"/administration/processus/envois/{staged.id}").get_data(as_text=True)
    assert f'href="/administration/processus/couverture?envoi={staged.id}"' in review
    started = browser.post_form(f"/administration/processus/couverture?envoi={staged.id}",
                                {"scenario": "hosting_project_quota_limit_299.yaml"})
    assert started.status_code == 303
    finish_scenario_runs()
    text = browser.client.get(started.location).get_data(as_text=True)
    assert f'avec les fichiers de l\'<a href="/administration/processus/envois/{staged.id}">envoi n° {staged.id}</a>' in text
    assert "1 scénario joué, 1 en échec." in text and "la saisie devait être refusée" in text
    page = browser.client.get(f"/administration/processus/couverture?envoi={broken.id}").get_data(as_text=True)
    assert "Cet envoi contient des erreurs" in page and "Jouer les scénarios" not in page
