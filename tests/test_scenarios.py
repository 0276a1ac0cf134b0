"""Scenario files: the shipped ones pass; a failing one says where and why, in French."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.runtime.deployment import read_definition_files
from engine.scenarios import find_scenarios, load_scenario, run_scenarios
from engine.scenarios.runner import run_scenario
from engine.scenarios.world import World

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "processes" / "scenarios"

DESIGN = """
  - task: design_project
    data: &project
      title: Aide aux devoirs et accompagnement des élèves
      theme: education
      description: Accompagner les élèves de collège dans leur travail personnel.
      activities: Animation de l'étude du soir.
      places_requested: 1
      desired_start_date: 2027-09-13
      duration_months: 8
      weekly_hours: 28
"""


@pytest.fixture(scope="module")
def world():
    """One throwaway platform for the module's scenarios (each plays on its own copy)."""
    with World(read_definition_files(ROOT / "processes", ROOT / "forms")) as world:
        yield world


def play(world, tmp_path, text: str):
    """Play a scenario written in the test."""
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    with world.copy() as copy:
        return run_scenario(load_scenario(path), copy)


def test_every_path_of_the_campaign_has_a_scenario():
    names = {path.stem for path in find_scenarios([], SCENARIOS)}
    assert {"hosting_project_accepted", "hosting_project_refused", "hosting_project_changes_then_accepted",
            "hosting_project_quota_two_places", "hosting_project_incomplete_school_file",
            "training_session"} <= names


def test_the_shipped_scenarios_pass(world):
    outcomes = []
    for path in find_scenarios([], SCENARIOS):
        with world.copy() as copy:
            outcomes.append(run_scenario(load_scenario(path), copy))
    assert len(outcomes) >= 10
    failures = [outcome.report() for outcome in outcomes if not outcome.passed]
    assert failures == [], "\n".join(failures)


def test_a_scenario_that_passes(world, tmp_path):
    outcome = play(world, tmp_path, "name: Refus\nprocess: hosting_project\nstart: {establishment: 0350781J}\n"
                                    f"steps:{DESIGN}"
                                    "  - task: review_project\n"
                                    "    data: {decision: refuse, comment: Hors du cadre du Service Civique.}\n"
                                    "end: {event: project_refused, status: refused, "
                                    "variables: {review.decision: refuse}}\n")
    assert outcome.passed and outcome.report() == "PASS  Refus (scenario.yaml)"


@pytest.mark.parametrize("steps,end,explanation", [
    ("\n  - task: review_project\n    data: {decision: accept, places_granted: 1}", "{}",
     "étape 1 (review_project) : la tâche attendue « review_project » n'est pas à faire ; à faire : design_project "
     "« Concevoir et déposer le projet d'accueil » (referent)."),
    (DESIGN + "  - task: review_project\n    data: {decision: refuse, comment: Non.}", "{event: campaign_closed}",
     "à la fin : le dossier s'est terminé par « project_refused » au lieu de « campaign_closed » (« Refusé » (fin "
     "« project_refused ») ; à faire : aucune tâche)."),
    (DESIGN, "{variables: {quota: 2}}", "à la fin : la variable « quota » vaut 1 au lieu de 2."),
    (DESIGN, "{variables: {places: 1}}",
     "à la fin : la variable « places » n'existe pas (variables : campaign, establishment, establishment_id, "
     "project, quota, review_level, review_structure, school_file, territory)."),
    (DESIGN, "{documents: [contract]}",
     "à la fin : 0 document « contract » au lieu d'au moins un (documents produits : aucun)."),
    ("\n  - task: design_project\n    data: {title: Aide}", "{}",
     "étape 1 (design_project) : la saisie de referent.rennes est refusée : champ « theme » : Ce champ est "
     "obligatoire. ; champ « description »"),
    (DESIGN + "    refused: {title: trop court}", "{}",
     "étape 1 (design_project) : la saisie devait être refusée, mais elle a été acceptée."),
    (DESIGN + "  - task: review_project\n    as: gestionnaire.udogec29\n    data: {decision: refuse, comment: Non.}",
     "{}", "étape 2 (review_project) : gestionnaire.udogec29 ne peut pas faire cette tâche : Cette tâche ne vous "
           "est pas attribuée."),
], ids=["wrong-task", "wrong-end", "wrong-variable", "missing-variable", "missing-document", "refused",
        "not-refused", "not-allowed"])
def test_a_failing_scenario_explains_its_first_divergence(world, tmp_path, steps, end, explanation):
    outcome = play(world, tmp_path, "name: Essai\nprocess: hosting_project\nstart: {establishment: 0350781J}\n"
                                    f"steps:{steps}\nend: {end}\n")
    assert not outcome.passed
    assert outcome.explanation.startswith(explanation), outcome.explanation


@pytest.mark.parametrize("text,explanation", [
    ("name: x\nprocess: training\nsteps: [{task: plan_training}\n",
     "scénario illisible : le fichier n'est pas du YAML lisible (ligne 4) : vérifiez l'indentation, les "
     "deux-points et les crochets"),
    ("name: x\nprocess: training\nsteps:\n  - tache: plan_training\n",
     "scénario illisible : l'étape 1 a des clés inconnues : tache (clés possibles : as, data, description, "
     "end_mission, expect, place, refused, task, wait_until)."),
    ("name: x\nprocess: training\nsteps: []\n", "scénario illisible : la clé « steps » manque."),
])
def test_an_unreadable_scenario_fails_with_its_reason(tmp_path, text, explanation):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    (outcome,) = run_scenarios([path], {})
    assert not outcome.passed and outcome.explanation.startswith(explanation), outcome.explanation


def test_cli_prints_each_result_and_the_explanation_of_a_failure(tmp_path):
    from webapp import create_app

    (tmp_path / "ok.yaml").write_text(
        (SCENARIOS / "hosting_project_refused.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "wrong.yaml").write_text(
        "name: Fin attendue à tort\nprocess: hosting_project\nstart: {establishment: 0350781J}\n"
        f"steps:{DESIGN}end: {{status: completed}}\n", encoding="utf-8")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}", "SECRET_KEY": "test"})
    result = app.test_cli_runner().invoke(args=["processes", "test", str(tmp_path)])
    app.extensions["db_engine"].dispose()
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "PASS  Projet d'accueil refusé (ok.yaml)",
        "ÉCHEC  Fin attendue à tort (wrong.yaml)",
        "      à la fin : le dossier est « En cours » au lieu de « Terminé ».",
        "2 scénarios : 1 réussi, 1 en échec.",
    ]


def test_a_scenario_continues_another_one_and_numbers_its_steps_on(tmp_path):
    (tmp_path / "first.yaml").write_text("name: Premier\nprocess: training\nstart: {structure: UDOGEC-35}\n"
                                         "steps:\n  - task: plan_training\n", encoding="utf-8")
    (tmp_path / "second.yaml").write_text("name: Second\ncontinues: first.yaml\nsteps:\n  - task: record_attendance\n",
                                          encoding="utf-8")
    scenario = load_scenario(tmp_path / "second.yaml")
    assert (scenario.process, scenario.structure) == ("training", "UDOGEC-35")
    assert [(s.number, s.task) for s in scenario.steps] == [(1, "plan_training"), (2, "record_attendance")]
    (tmp_path / "loop.yaml").write_text("name: Boucle\ncontinues: loop.yaml\nsteps:\n  - task: x\n", encoding="utf-8")
    (outcome,) = run_scenarios([tmp_path / "loop.yaml"], {})
    assert outcome.explanation == ("scénario illisible : le scénario continué « loop.yaml » : « continues » tourne en "
                                   "rond : loop.yaml se continue lui-même.")
