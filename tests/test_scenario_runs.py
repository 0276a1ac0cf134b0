"""Scenario runs played in the background: the progress written before each scenario, the result kept in the
database, a run whose thread died read as interrupted, a failure said in French."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.models import ScenarioRun
from engine.runtime.deployment import current_deployment, read_definition_files
from engine.scenarios import runs
from engine.scenarios.ordering import changed_first, changed_processes
from engine.scenarios.runs import STALE_AFTER, coverage_of, play_run, run_files, start_run, view_of

from conftest import ROOT

SCENARIOS = ROOT / "processes" / "scenarios"
NOW = datetime(2027, 3, 15, 10, 0)
PATHS = [SCENARIOS / "hosting_project_quota_limit_299.yaml", SCENARIOS / "hosting_project_quota_limit_300.yaml"]


def new_run(session, coverage: bool = True) -> ScenarioRun:
    """A run of the deployed version, recorded and not yet played."""
    return start_run(session, deployment=current_deployment(session), staged=None, scenario="", coverage=coverage,
                     actor_id=None, now=NOW)


def test_a_run_writes_which_scenario_plays_then_keeps_its_outcomes_and_coverage(sessions, session):
    run = new_run(session)
    assert view_of(run, NOW).message == "Préparation de la copie jetable de la plateforme…"
    seen: list[str] = []

    def clock() -> datetime:
        # Each progress write reads the clock: what another worker's page would read at that moment.
        with sessions() as other:
            row = other.get(ScenarioRun, run.id)
            if row.total:
                seen.append(view_of(row, NOW).message)
        return NOW

    play_run(sessions, run.id, PATHS, clock)
    assert "Scénario 1 sur 2 : hosting_project_quota_limit_299.yaml…" in seen
    assert "Scénario 2 sur 2 : hosting_project_quota_limit_300.yaml…" in seen
    session.expire_all()
    shown = view_of(session.get(ScenarioRun, run.id), NOW)
    assert (shown.status, shown.message, shown.passed) == ("done", "2 scénarios joués, 0 en échec.", 2)
    assert [outcome["file"] for outcome in shown.outcomes] == [path.name for path in PATHS]
    report = coverage_of(shown.run, run_files(session, shown.run))
    quota = next(section for section in report.sections if section.section.ident == "volunteer_quota")
    assert quota.done == quota.total, "both sides of the threshold and both rules"


def test_a_run_whose_thread_stopped_reads_as_interrupted(session):
    run = new_run(session)
    assert view_of(run, NOW + STALE_AFTER).status == "running"
    stale = view_of(run, NOW + STALE_AFTER + timedelta(seconds=1))
    assert stale.status == "failed" and "relancez-les" in stale.message


def test_an_unforeseen_failure_is_said_in_french(sessions, session, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(runs, "run_scenarios", broken)
    run = new_run(session, coverage=False)
    play_run(sessions, run.id, PATHS, lambda: NOW)
    session.expire_all()
    shown = view_of(session.get(ScenarioRun, run.id), NOW)
    assert shown.status == "failed"
    assert shown.message == "Les scénarios se sont arrêtés sur une erreur inattendue (RuntimeError)."
    assert coverage_of(shown.run, {}) is None
    assert "Scénarios interrompus" in caplog.text


@pytest.mark.parametrize("missing", [True, False])
def test_the_status_page_answers_process_owners_only(browser, session, missing):
    run_id = 999999 if missing else new_run(session).id
    browser.login("pilote")
    response = browser.client.get(f"/administration/processus/executions/{run_id}")
    if missing:
        assert response.status_code == 404
    else:
        assert response.status_code == 200
        assert response.get_json()["message"] == "Préparation de la copie jetable de la plateforme…"
        page = browser.client.get(f"/administration/processus/couverture?execution={run_id}").get_data(as_text=True)
        assert f'data-run-status="/administration/processus/executions/{run_id}"' in page
        assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page


@pytest.mark.parametrize(("changed", "processes"), [
    ({"processes/volunteer_quota.dmn"}, ["hosting_project"]),
    ({"forms/plan_training.schema.json"}, ["training"]),
    # The volunteer's path is called by the hosting project: both are changed.
    ({"processes/volunteer.bpmn"}, ["hosting_project", "volunteer"]),
    ({"forms/unknown.schema.json"}, []),
])
def test_the_processes_a_changed_file_makes_up(changed, processes):
    assert changed_processes(read_definition_files(ROOT / "processes", ROOT / "forms"), changed) == processes


def test_the_scenarios_of_the_changed_processes_come_first(tmp_path):
    unreadable = tmp_path / "aaa_unreadable.yaml"
    unreadable.write_text("process: [", encoding="utf-8")
    paths = sorted(SCENARIOS.glob("*.yaml")) + [unreadable]
    order = changed_first(paths, read_definition_files(ROOT / "processes", ROOT / "forms"),
                          {"processes/training.bpmn"})
    assert order.processes == ["Session de formation"]
    assert [path.name for path in order.paths[:order.first]] == ["training_date_in_the_past.yaml",
                                                                  "training_session.yaml"]
    assert sorted(order.paths) == sorted(paths) and order.paths[-1] == unreadable


def test_the_progress_says_when_the_changed_processes_play_first(session):
    run = start_run(session, deployment=None, staged=None, scenario="", coverage=False, actor_id=None, now=NOW,
                    first=2, processes=["Projet d'accueil"])
    run.total, run.current = 18, "hosting_project_accepted.yaml"
    assert view_of(run, NOW).message == ("Scénario 1 sur 18 (d'abord ceux des processus modifiés : Projet d'accueil)"
                                         " : hosting_project_accepted.yaml…")
    run.done, run.current = 2, "training_session.yaml"
    run.result = {**run.result, "outcomes": [{"name": "a", "file": "a.yaml", "passed": True, "explanation": ""}] * 2}
    shown = view_of(run, NOW)
    assert shown.message == "Scénario 3 sur 18 : training_session.yaml…"
    assert shown.as_json()["outcomes"] == run.result["outcomes"] and shown.as_json()["first"] == 2
