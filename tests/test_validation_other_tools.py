"""Files from other tools (Camunda, FEEL, reference suites): every refusal in French, on its element and line."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.validation import validate_files
from engine.validation.elements import REFUSED, RUNS
from engine.validation.model import FLOW_NODES
from webapp import create_app

SAMPLES = Path(__file__).parent / "validation_files"
# Words of the engine's English messages: they may only follow « détail … : » in a problem.
ENGLISH = re.compile(r"\b(the|has no|not found|is not|must|invalid|missing|expected)\b", re.I)


def files(*names: str, changes: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    """Sample files of other tools, as a deployment holds them, with text replaced in the first one."""
    found = {f"processes/{name}": (SAMPLES / name).read_text(encoding="utf-8") for name in names}
    first = f"processes/{names[0]}"
    for old, new in changes:
        assert old in found[first], old
        found[first] = found[first].replace(old, new)
    return found


def problems(*names: str, changes: tuple[tuple[str, str], ...] = ()) -> dict[str, tuple[str, str | None, int | None]]:
    """The problems of the first file (diagram ones left out: these samples have no drawing): id → (rule, message)."""
    report = validate_files(files(*names, changes=changes), [f"processes/{names[0]}"])
    return {p.element_id or "": (p.rule, p.message, p.line) for p in report.problems if not p.rule.startswith("di.")}


def test_each_element_type_runs_or_is_refused():
    assert set(RUNS) | set(REFUSED) >= FLOW_NODES - {"dataStoreReference"}
    assert not set(RUNS) & set(REFUSED)


def test_a_manual_task_in_a_lane_is_valid():
    report = validate_files(files("other_manual_task.bpmn"))
    assert report.problems == []


def test_a_manual_task_outside_any_lane_is_refused():
    found = problems("other_manual_task.bpmn", changes=(("<bpmn:flowNodeRef>sign_register</bpmn:flowNodeRef>", ""),))
    assert found["sign_register"][:2] == (
        "lane.missing", "la tâche manuelle n'est dans aucun couloir : personne ne la verrait dans sa boîte. Placez-la "
                        "dans le couloir du rôle qui doit la faire.")


@pytest.mark.parametrize("flow,line,message", [
    ("flow_juel", 13, "la condition ne se compile pas : ligne 1 : erreur de syntaxe (syntaxe invalide) dans "
                      "« ${clarified == 'yes'} » ; les conditions s'écrivent en Python : `clarified == 'yes'`."),
    ("flow_juel_not", 16, "la condition ne se compile pas : ligne 1 : erreur de syntaxe (syntaxe invalide) dans "
                          "« #{!approved && urgent} » ; les conditions s'écrivent en Python : `not approved and "
                          "urgent`."),
    ("flow_feel", 19, "la condition ne se compile pas : ligne 1 : erreur de syntaxe (syntaxe invalide) dans « = "
                      "approved = false or not(urgent) » ; les conditions s'écrivent en Python : `approved == False "
                      "or not(urgent)`."),
    ("flow_label", 22, "la condition ne se compile pas : ligne 1 : erreur de syntaxe (syntaxe invalide) dans « Niveau "
                       "urgence == \"haut\" » ; les conditions s'écrivent en Python, où un nom de variable n'a pas "
                       "d'espace : « Niveau urgence » (par exemple `niveau_urgence`) ; c'est le nom de la variable "
                       "qu'il faut écrire, pas son libellé."),
])
def test_conditions_of_other_engines_get_the_python_to_write(flow, line, message):
    assert problems("other_foreign_conditions.bpmn")[flow] == ("script.compile", message, line)


def test_a_data_store_is_refused_on_its_reference_with_what_to_do():
    found = problems("other_data_store.bpmn")
    assert found == {"store_reference": (
        "element.refused", "le magasin de données ne s'exécute pas sur la plateforme : supprimez-le et gardez les "
                           "données dans les variables du dossier (champs des formulaires, résultats des tâches).", 12)}


def test_a_flow_without_source_says_which_attribute_is_missing():
    assert problems("other_flow_without_source.bpmn")["loose_flow_2"] == (
        "flow.ref", "le flux n'a pas d'attribut « sourceRef » : le fichier ne dit pas l'élément d'où il part. "
                    "Redessinez la flèche dans un modeleur, d'un élément à l'autre.", 8)


def test_elements_the_platform_cannot_run_are_refused_each_with_its_reason():
    found = problems("other_unsupported_elements.bpmn")
    assert found["u_complex"][:2] == ("element.refused", f"{REFUSED['complexGateway']}.")
    assert found["u_wait_vote"][0] == "element.never_sent"
    assert found["u_wait_vote"][1].startswith("rien n'envoie le signal « budget_vote » : aucun élément des processus "
                                              "déployés ne le lance, et la plateforme n'envoie pas de signaux")
    # The JavaScript is refused for its language, without a Python syntax error on top.
    assert found["u_script"] == ("element.script_language", "le script est écrit en « javascript » : la plateforme "
                                 "n'exécute que du Python. Réécrivez-le en Python et retirez le format (scriptFormat).",
                                 13)


def test_a_call_to_a_process_not_deployed_is_said_in_french_on_the_call_activity():
    found = problems("other_unsupported_elements.bpmn",
                     changes=(("bpmn:complexGateway", "bpmn:parallelGateway"),))
    rule, message, line = found["u_call"]
    assert (rule, line) == ("engine.call", 17)
    assert message.startswith("le processus appelé « national_check » n'est dans aucun fichier déployé (processus "
                              "connus : unsupported_process) : déployez son fichier avec celui-ci, ou corrigez "
                              "l'identifiant appelé (calledElement) (détail du moteur : The process")


def test_a_decision_output_with_only_a_label_is_named_by_it():
    assert problems("other_label_output.bpmn", "other_label_output.dmn") == {}


def test_feel_cells_get_the_python_to_write():
    found = problems("other_feel_cells.dmn")
    assert found["feel_range"][0] in ("script.compile", "dmn.feel")
    report = validate_files(files("other_feel_cells.dmn"))
    messages = [p.message for p in report.problems]
    assert ("la cellule « [16..25] » de l'entrée « Âge » ne se compile pas : ligne 1 : erreur de syntaxe (syntaxe "
            "invalide ; une virgule manque-t-elle ?) dans « age [16..25] » ; les cellules s'écrivent en Python, pas en "
            "FEEL : `? >= 16 and ? <= 25` (« ? » y tient lieu de la valeur de l'entrée).") in messages
    assert ("la cellule « \"lycée\", \"collège\" » de l'entrée « Type » est une liste de valeurs en FEEL : en Python "
            "elle ne vaut jamais vrai ; les cellules s'écrivent en Python, pas en FEEL : `? in (\"lycée\", "
            "\"collège\")` (« ? » y tient lieu de la valeur de l'entrée).") in messages


def test_no_problem_of_the_samples_is_in_english_or_without_its_element():
    for name in sorted(SAMPLES.glob("other_*")):
        report = validate_files(files(name.name))
        for problem in (p for p in report.problems if p.rule != "di.missing"):
            said = problem.message.split("détail")[0]
            assert not ENGLISH.search(re.sub(r"«[^»]*»|`[^`]*`", "", said)), str(problem)
            assert problem.element_id and problem.line, str(problem)


def test_a_check_that_fails_becomes_a_problem_of_its_file(monkeypatch):
    import engine.validation as validation

    def failing(definitions):
        for scope in definitions.scopes:
            for node in scope.nodes.values():
                if node.id == "sign_register":
                    raise KeyError("boom")
        return iter(())

    monkeypatch.setattr(validation, "CHECKS", (*validation.CHECKS, failing))
    report = validate_files(files("other_manual_task.bpmn", "other_data_store.bpmn"))
    (problem,) = [p for p in report.problems if p.rule == "unexpected"]
    assert (problem.file, problem.element_id, problem.line) == ("processes/other_manual_task.bpmn", "sign_register", 13)
    assert problem.message.startswith("erreur inattendue en lisant ce fichier : la vérification s'est arrêtée "
                                      "(détail : KeyError : 'boom')")


def test_the_validate_command_reports_other_tools_files_in_french(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}", "SECRET_KEY": "test"})
    result = app.test_cli_runner().invoke(args=["processes", "validate",
                                                str(SAMPLES / "other_foreign_conditions.bpmn")])
    app.extensions["db_engine"].dispose()
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert ("processes/other_foreign_conditions.bpmn:13 : erreur : flow_juel « oui » : la condition ne se compile "
            "pas : ligne 1 : erreur de syntaxe (syntaxe invalide) dans « ${clarified == 'yes'} » ; les conditions "
            "s'écrivent en Python : `clarified == 'yes'`.") in result.output.splitlines()


def test_the_commands_say_an_unforeseen_failure_in_french(tmp_path, monkeypatch):
    import webapp.process_cli as process_cli

    def broken(*_args, **_kwargs):
        raise RuntimeError("panne")

    monkeypatch.setattr(process_cli, "validate_files", broken)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}", "SECRET_KEY": "test"})
    result = app.test_cli_runner().invoke(args=["processes", "validate"])
    app.extensions["db_engine"].dispose()
    assert result.exit_code == 1
    assert result.output == ("Erreur inattendue de la plateforme (détail : RuntimeError : panne) ; signalez-la à "
                             "l'équipe technique avec vos fichiers.\n")


def test_the_deployment_page_shows_other_tools_refusals_in_french(browser):
    import io

    from conftest import csrf_token

    browser.login("pilote")
    index = "/administration/processus/"
    content = (SAMPLES / "other_unsupported_elements.bpmn").read_bytes()
    response = browser.client.post(index, content_type="multipart/form-data", data={
        "csrf_token": csrf_token(browser.client, index),
        "files": [(io.BytesIO(content), "other_unsupported_elements.bpmn")]})
    assert response.status_code == 302
    review = browser.client.get(response.headers["Location"])
    page = review.get_data(as_text=True)
    assert review.status_code == 422 and "Traceback" not in page
    assert "la passerelle complexe ne s&#39;exécute pas dans le moteur" in page
    assert "rien n&#39;envoie le signal « budget_vote »" in page



def test_a_constant_written_as_in_javascript_is_named_in_python():
    found = validate_files(files("other_foreign_conditions.bpmn",
                                 changes=(('Niveau urgence == "haut"', "approved == true"),))).problems
    assert ("data.unknown", "flow_label", "la condition lit « true » comme une variable : en Python, cette constante "
            "s'écrit « True ».") in [(p.rule, p.element_id, p.message) for p in found]
