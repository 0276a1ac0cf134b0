"""The validator: one broken file per rule, each with its precise French message; the repository passes."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import handlers
from engine.forms import ACTION_FORMS
from engine.validation import validate_files
from engine.validation.conventions import task_panel, task_panels
from engine.validation.model import Definitions
from handlers.eligibility import volunteer_file_rules
from handlers.volunteer import volunteer_file_prefill
from webapp.tasks import PANELS_DIR

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = Path(__file__).parent / "validation_files"
SAMPLE_FILES = {
    "processes/sample.bpmn": "sample.bpmn",
    "processes/sample_quota.dmn": "sample_quota.dmn",
    "forms/sample_project.schema.json": "sample_project.schema.json",
    "forms/sample_review.schema.json": "sample_review.schema.json",
}
BPMN = "processes/sample.bpmn"
DMN = "processes/sample_quota.dmn"
PROJECT_FORM = "forms/sample_project.schema.json"


def sample_files() -> dict[str, str]:
    """A small valid process, its decision table and its forms."""
    return {name: (SAMPLES / source).read_text(encoding="utf-8") for name, source in SAMPLE_FILES.items()}


def broken(file: str, *changes: tuple[str, str]) -> dict[str, str]:
    """The sample files with text replaced in one of them (each replaced text must be there)."""
    files = sample_files()
    for old, new in changes:
        assert old in files[file], old
        files[file] = files[file].replace(old, new, 1)
    return files


def test_the_sample_is_valid():
    report = validate_files(sample_files())
    assert report.problems == [] and report.ok
    assert report.summary() == "4 fichiers vérifiés : aucun problème."


# (rule, file changed, changes, element id, exact message)
CASES = [
    ("xml.parse", BPMN, [("</bpmn:startEvent>", "</bpmn:startEvnt>")], None,
     "le fichier n'est pas du XML lisible : la balise « startEvnt » ferme la balise « startEvent » "
     "ouverte ligne 24 (ligne 26)"),
    ("xml.parse", BPMN, [('<bpmn:userTask id="describe_project"', '<bpmn:userTask id="describe_project" id="x"')],
     None, "le fichier n'est pas du XML lisible : l'attribut « id » est écrit deux fois (ligne 27)"),
    ("json.parse", PROJECT_FORM, [('"type": "object",', '"type": "object"')], None,
     "le fichier n'est pas du JSON lisible : une virgule manque (ligne 5)"),
    ("engine.schema", BPMN, [('<bpmn:incoming>flow_opened</bpmn:incoming>',
                              '<bpmn:flowNodeRef>x</bpmn:flowNodeRef><bpmn:incoming>flow_opened</bpmn:incoming>')],
     "sample_done", "l'élément « flowNodeRef » n'est pas permis à cet endroit par le schéma BPMN 2.0"),
    ("di.shape", BPMN, [('<bpmndi:BPMNShape id="review_sample_di" bpmnElement="review_sample">',
                         '<bpmndi:BPMNShape id="review_sample_di" bpmnElement="elsewhere">')], "review_sample",
     "tâche utilisateur sans forme dans le diagramme : il n'apparaît pas dans le modeleur. "
     "Supprimez-le ou redessinez-le."),
    ("di.edge", BPMN, [('bpmnElement="flow_quota"', 'bpmnElement="flow_quota_old"')], "flow_quota",
     "flux sans tracé dans le diagramme : la flèche n'apparaît pas dans le modeleur. Redessinez-la."),
    ("form.missing", BPMN, [('<spiffworkflow:property name="formJsonSchemaFilename" value="sample_review.schema.json" />',
                             '')], "review_sample",
     "la tâche utilisateur n'a pas de formulaire : ajoutez la propriété formJsonSchemaFilename et le fichier "
     "« forms/review_sample.schema.json »."),
    ("form.missing", BPMN, [('value="sample_review.schema.json"', 'value="sample_reviews.schema.json"')],
     "review_sample", "le formulaire « forms/sample_reviews.schema.json » déclaré par la propriété "
                      "formJsonSchemaFilename n'existe pas : ajoutez ce fichier ou corrigez son nom."),
    ("form.schema", PROJECT_FORM, [('{"type": "string"', '{"type": "texte"')], "describe_project",
     "le formulaire n'est pas un JSON Schema valide : à « properties › title › type », la valeur \"texte\" "
     "n'est pas permise."),
    ("form.schema", PROJECT_FORM, [('"type": "object",', '"type": "array",')], "describe_project",
     "le formulaire doit décrire un objet : « \"type\": \"object\" » et des champs sous « properties »."),
    ("handler.unknown", BPMN, [('id="check_school_file" resultVariable', 'id="check_school" resultVariable')],
     "check_school_file_task", "le gestionnaire « check_school » n'existe pas ; gestionnaires connus : "),
    ("handler.parameter", BPMN, [('<spiffworkflow:parameter id="establishment_id" type="int" value="establishment_id" />',
                                  '')], "check_school_file_task",
     "il manque le paramètre « establishment_id » (identifiant de l'établissement (`establishment_id`)), "
     "dont le gestionnaire « check_school_file » a besoin."),
    ("handler.parameter", BPMN, [('id="establishment_id" type="int"', 'id="school_id" type="int"')],
     "check_school_file_task", "le gestionnaire « check_school_file » n'accepte pas le paramètre « school_id » ; "
                               "il accepte : establishment_id."),
    ("lane.role", BPMN, [('<bpmn:lane id="gestionnaire"', '<bpmn:lane id="instructeur"'),
                         ('bpmnElement="gestionnaire"', 'bpmnElement="instructeur"')], "instructeur",
     "le couloir ne correspond à aucun rôle connu : son identifiant doit être l'un des rôles "
     "accompagnant, gestionnaire, referent, tuteur."),
    ("lane.missing", BPMN, [('<bpmn:flowNodeRef>review_sample</bpmn:flowNodeRef>', '')], "review_sample",
     "la tâche utilisateur n'est dans aucun couloir : personne ne la verrait dans sa boîte. "
     "Placez-la dans le couloir du rôle qui doit la faire."),
    ("gateway.conditions", BPMN, [(' default="flow_accepted"', '')], "review_gateway",
     "la passerelle a des flux sortants sans condition ni flux par défaut (flow_accepted « Accepté ») : donnez une "
     "condition à chacun, ou marquez l'un d'eux comme flux par défaut."),
    ("gateway.default", BPMN, [('default="flow_accepted"', 'default="flow_opened"')], "review_gateway",
     "le flux par défaut « flow_opened » ne part pas de cette passerelle."),
    ("reach.unreachable", BPMN, [('sourceRef="determine_quota" targetRef="review_sample"',
                                  'sourceRef="determine_quota" targetRef="review_gateway"')], "review_sample",
     "tâche utilisateur qu'aucun chemin n'atteint depuis le début du processus : reliez cet élément par un flux "
     "ou supprimez-le."),
    ("flow.ref", BPMN, [('targetRef="sample_done"', 'targetRef="sample_end"')], "flow_opened",
     "le flux mène à « sample_end », qui n'est pas un élément de ce processus."),
    ("script.compile", BPMN, [('range(quota)]', 'range(quota)')], "open_places",
     "le script ne se compile pas : ligne 1 : erreur de syntaxe (la parenthèse ou le crochet « [ » n'est jamais "
     "fermé) dans "
     "« places = [{\"number\": n + 1} for n in range(quota) ».", ),
    ("script.compile", BPMN, [('review["decision"] == "refuse"', 'review.__class__ == "refuse"')], "flow_refused",
     "la condition ne se compile pas : ligne 1 : le nom « __class__ » commence par « _ », ce qui est interdit."),
    ("script.compile", BPMN, [('places = [', 'import os\nplaces = [')], "open_places",
     "le script ne se compile pas : ligne 1 : « import » est interdit dans les scripts de la plateforme."),
    ("script.compile", BPMN, [('places = [{"number": n + 1} for n in range(quota)]', 'places = eval("quota")')],
     "open_places", "le script ne se compile pas : ligne 1 : la fonction « eval » est interdite dans les scripts."),
    ("script.compile", BPMN, [('places = [{"number": n + 1} for n in range(quota)]', 'places = open("/etc/passwd")')],
     "open_places", "le script ne se compile pas : ligne 1 : la fonction « open » n'est pas disponible dans "
                    "les scripts."),
    ("script.compile", BPMN, [('{{ establishment.name }}', '{{ establishment.name }')], "describe_project",
     "le texte d'instructions ne se compile pas : ligne 1 des instructions : syntaxe de modèle invalide "
     "(unexpected '}')."),
    ("dmn.call", BPMN, [('>sample_quota<', '>sample_quotas<')], "determine_quota",
     "la table de décision « sample_quotas » n'existe pas ; tables connues : sample_quota."),
    ("dmn.input", BPMN, [('sourceRef="file_gateway" targetRef="determine_quota"',
                          'sourceRef="sample_start" targetRef="determine_quota"'),
                         ('sourceRef="sample_start" targetRef="describe_project"',
                          'sourceRef="file_gateway" targetRef="describe_project"')], "determine_quota",
     "l'entrée « Effectif d'élèves » de la table « sample_quota » (processes/sample_quota.dmn) lit « school_file », "
     "qu'aucune étape en amont ne produit."),
    ("data.unknown", BPMN, [("range(quota)", "range(quotas)")], "open_places",
     "le script lit « quotas », qu'aucune étape ne produit (nom mal écrit, ou champ, résultat ou sortie de table de "
     "décision renommé ?)."),
    ("dmn.overlap", DMN, [("&gt;= 300", "&gt;= 250")], "rule_large",
     "les règles « rule_small » et « rule_large » s'appliquent toutes deux quand Effectif d'élèves = 250 : "
     "avec la politique UNIQUE, une seule règle doit s'appliquer."),
    ("dmn.gap", DMN, [("&gt;= 300", "&gt; 300")], "sample_quota",
     "aucune règle ne s'applique quand Effectif d'élèves = 300 : ajoutez une règle pour ce cas, sinon la décision "
     "ne donne aucun résultat."),
    ("script.compile", DMN, [("<text>2</text>", "<text>2 +</text>")], "rule_large",
     "la sortie « 2 + » ne se compile pas : ligne 1 : erreur de syntaxe (syntaxe invalide) dans « 2 + »."),
]


@pytest.mark.parametrize("rule,file,changes,element,message", CASES,
                         ids=[f"{i:02d}-{case[0]}" for i, case in enumerate(CASES)])
def test_each_rule_reports_its_precise_message(rule, file, changes, element, message):
    report = validate_files(broken(file, *changes))
    found = [(p.file, p.element_id, p.message if rule != "handler.unknown" else p.message[:len(message)])
             for p in report.errors if p.rule == rule]
    assert (file, element, message) in found, [str(p) for p in report.problems]
    assert not report.ok


def test_a_renamed_decision_output_breaks_the_process_reading_it():
    report = validate_files(broken(DMN, ('name="quota"', 'name="volunteers"')))
    assert [(p.rule, p.file, p.element_id) for p in report.errors] == [("data.unknown", BPMN, "open_places")]


def test_a_variable_produced_only_downstream_is_a_warning():
    report = validate_files(broken(BPMN, ('school_file["complete"]', 'school_file["complete"] and review')))
    assert report.ok
    assert [str(p) for p in report.warnings] == [
        "processes/sample.bpmn:93 : avertissement : flow_complete « Complète » : la condition lit « review », "
        "qu'aucune étape en amont ne produit : vérifiez l'ordre des étapes."]


def test_the_problem_line_names_file_line_element_and_label():
    report = validate_files(broken(BPMN, (' default="flow_accepted"', '')))
    (problem,) = report.problems
    assert str(problem).startswith(
        "processes/sample.bpmn:74 : erreur : review_gateway « Décision ? » : la passerelle a des flux sortants")
    assert report.summary() == "4 fichiers vérifiés : 1 erreur, 0 avertissement."


def test_a_gateway_whose_flows_all_have_conditions_but_no_default_is_a_warning():
    files = broken(BPMN, (' default="flow_accepted"', ''),
                   ('targetRef="open_places" />', 'targetRef="open_places"><bpmn:conditionExpression>'
                                                  'review["decision"] == "accept"</bpmn:conditionExpression>'
                                                  '</bpmn:sequenceFlow>'))
    report = validate_files(files)
    assert report.ok and [p.rule for p in report.warnings] == ["gateway.no_default"]


def test_only_the_targets_are_reported_but_the_others_give_the_context():
    files = broken(BPMN, (' default="flow_accepted"', ''))
    assert validate_files(files, ["processes/sample_quota.dmn"]).problems == []
    files = sample_files()
    del files["processes/sample_quota.dmn"]
    problems = validate_files(files, [BPMN]).problems
    assert [(p.rule, p.element_id) for p in problems] == [("dmn.call", "determine_quota"),
                                                          ("data.unknown", "open_places")]


def test_a_field_without_title_is_a_warning():
    report = validate_files(broken(PROJECT_FORM, ('"title": "Intitulé du projet", ', '')))
    assert report.ok
    assert [str(p) for p in report.warnings] == [
        "forms/sample_project.schema.json : avertissement : describe_project « Décrire le projet » : le champ "
        "« title » n'a pas de titre : la page afficherait son identifiant technique."]


def test_the_repository_definitions_have_no_error():
    report = validate_files(repository_files(), panels_dir=PANELS_DIR, registries=True)
    assert report.errors == [], "\n".join(str(p) for p in report.errors)


def repository_files() -> dict[str, str]:
    """The repository's definition files, as `processes validate` reads them."""
    from engine.runtime.deployment import read_definition_files

    return read_definition_files(ROOT / "processes", ROOT / "forms")


def test_a_panel_named_after_no_user_task_is_an_error(tmp_path):
    for name in ("volunteer_file.html", "volunter_file.html", "publish_offer.htm", ".volunteer_file.html.swp"):
        (tmp_path / name).write_text("<section></section>", encoding="utf-8")
    report = validate_files(repository_files(), panels_dir=tmp_path)
    assert [(p.rule, p.file, p.element_id, p.message) for p in report.errors] == [
        ("panel.orphan", str(tmp_path / "volunter_file.html"), "volunter_file",
         "le panneau porte le nom de la tâche « volunter_file », qu'aucune tâche utilisateur déployée n'a : il ne "
         "serait jamais affiché (vouliez-vous dire « volunteer_file » ?). Renommez-le « <identifiant de la "
         "tâche>.html » ou supprimez-le."),
        ("panel.orphan", str(tmp_path / "publish_offer.htm"), None,
         "ce dossier ne contient que les panneaux des tâches, nommés « <identifiant de la tâche>.html » : ce fichier "
         "ne serait jamais affiché. Renommez-le ou déplacez-le."),
    ]


def test_the_task_page_includes_the_panel_the_validator_knows():
    assert task_panel(PANELS_DIR, "volunteer_file") == PANELS_DIR / "volunteer_file.html"
    assert task_panel(PANELS_DIR, "design_project") is None
    assert set(task_panels(PANELS_DIR)) == {"publish_offer", "volunteer_file"}


def test_a_form_file_named_after_no_user_task_is_an_error():
    files = sample_files()
    files["forms/describe_projet.uischema.json"] = "{}"
    report = validate_files(files)
    assert [(p.rule, p.file, p.element_id, p.message) for p in report.errors] == [
        ("form.orphan", "forms/describe_projet.uischema.json", "describe_projet",
         "le fichier porte le nom de la tâche « describe_projet », qu'aucune tâche utilisateur déployée n'a, et "
         "aucune tâche ne le déclare (formJsonSchemaFilename, formUiSchemaFilename) : il ne serait jamais affiché "
         "(vouliez-vous dire « describe_project » ?). Nommez-le d'après l'identifiant de sa tâche "
         "(« <identifiant>.schema.json », « <identifiant>.uischema.json ») ou supprimez-le."),
    ]
    assert validate_files(files, [BPMN]).ok, "a file that is not a target is not reported"


def test_the_forms_of_platform_actions_are_not_orphans():
    files = repository_files()
    assert "forms/end_mission.schema.json" in files and "end_mission" in ACTION_FORMS
    assert not [p for p in validate_files(files).problems if p.rule == "form.orphan"]


def test_rules_and_prefills_registered_for_no_user_task_are_errors(monkeypatch):
    monkeypatch.setitem(handlers.FORM_RULES, "volunter_file", [volunteer_file_rules])
    monkeypatch.setitem(handlers.FORM_PREFILL, "ghost_task", volunteer_file_prefill)
    files = repository_files()
    assert validate_files(files).ok, "the registries are checked only when asked"
    report = validate_files(files, registries=True)
    assert [(p.rule, p.file, p.element_id, p.message) for p in report.errors] == [
        ("registry.orphan", "handlers/__init__.py", "volunter_file",
         "FORM_RULES rattache des règles (volunteer_file_rules dans handlers/eligibility.py) à la tâche "
         "« volunter_file », qu'aucune tâche utilisateur déployée n'a : elles ne s'appliqueraient jamais "
         "(vouliez-vous dire « volunteer_file » ?). Corrigez l'identifiant ou retirez l'entrée."),
        ("registry.orphan", "handlers/__init__.py", "ghost_task",
         "FORM_PREFILL rattache un préremplissage (volunteer_file_prefill dans handlers/volunteer.py) à la tâche "
         "« ghost_task », qu'aucune tâche utilisateur déployée n'a : il ne serait jamais proposé. Corrigez "
         "l'identifiant ou retirez l'entrée."),
    ]


def test_a_renamed_user_task_leaves_its_rules_panel_and_form_behind():
    files = repository_files()
    files["processes/volunteer.bpmn"] = files["processes/volunteer.bpmn"].replace('"volunteer_file"', '"volunteer_form"')
    report = validate_files(files, panels_dir=PANELS_DIR, registries=True)
    # Its forms stay declared by the renamed task; its panel, rules and prefill are found by the id alone.
    orphans = [(p.rule, Path(p.file).name, p.message.split(" ", 1)[0]) for p in report.errors
               if p.element_id == "volunteer_file"]
    assert orphans == [("panel.orphan", "volunteer_file.html", "le"),
                       ("registry.orphan", "__init__.py", "FORM_RULES"),
                       ("registry.orphan", "__init__.py", "FORM_PREFILL")], [str(p) for p in report.problems]


def test_form_samples_are_named_after_user_tasks():
    samples = json.loads((Path(__file__).parent / "form_samples.json").read_text(encoding="utf-8"))
    task_ids = {task.id for task in Definitions.read(repository_files()).nodes("userTask")}
    assert set(samples) - task_ids - ACTION_FORMS == set(), "tests/form_samples.json : échantillon sans tâche"
    assert task_ids - set(samples) == set(), "tests/form_samples.json : tâche sans échantillon"


def modeler_files() -> dict[str, str]:
    """The repository's definitions with a process saved by Camunda Modeler and its form."""
    from engine.runtime.deployment import read_definition_files

    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    files["processes/camunda_modeler.bpmn"] = (SAMPLES / "camunda_modeler.bpmn").read_text(encoding="utf-8")
    files["forms/modeler_welcome.schema.json"] = (SAMPLES / "modeler_welcome.schema.json").read_text(encoding="utf-8")
    return files


def test_a_file_saved_by_camunda_modeler_validates_deploys_and_runs(session, runtime):
    from sqlalchemy import select

    from engine.models import Establishment, TaskRow
    from engine.runtime.deployment import deploy

    from conftest import principal_of

    text = (SAMPLES / "camunda_modeler.bpmn").read_text(encoding="utf-8")
    assert 'exporter="Camunda Modeler"' in text and "zeebe:taskDefinition" in text and "bioc:stroke" in text
    files = modeler_files()
    assert validate_files(files, ["processes/camunda_modeler.bpmn"]).problems == []
    deploy(session, files, actor="tests")
    session.commit()
    rennes = session.scalar(select(Establishment).where(Establishment.uai == "0350781J"))
    instance = runtime.start("modeler_sample", principal_of(session, "referent.rennes"), establishment=rennes,
                             campaign="2027-2028")
    row = session.scalar(select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready"))
    assert (row.spec_id, row.lane, row.title) == ("welcome_school", "referent", "Accueillir l'établissement")
    runtime.complete(row.id, principal_of(session, "referent.rennes"), {"contact": "Anne Le Goff"})
    session.refresh(instance)
    assert (instance.status, instance.outcome) == ("completed", "welcome_done")


@pytest.fixture
def cli(tmp_path):
    """The app's command runner, on a database nothing reads (validation needs none)."""
    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}", "SECRET_KEY": "test"})
    yield app.test_cli_runner()
    app.extensions["db_engine"].dispose()


def test_cli_validates_the_repository_without_error(cli):
    result = cli.invoke(args=["processes", "validate"])
    assert result.exit_code == 0, result.output
    assert "0 erreur," in result.output or "aucun problème" in result.output


def test_cli_reports_a_broken_file_and_exits_non_zero(cli, tmp_path):
    for name, text in broken(BPMN, (' default="flow_accepted"', '')).items():
        (tmp_path / name.split("/")[1]).write_text(text, encoding="utf-8")
    result = cli.invoke(args=["processes", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "processes/sample.bpmn:74 : erreur : review_gateway « Décision ? » : la passerelle a des flux sortants sans "
        "condition ni flux par défaut (flow_accepted « Accepté ») : donnez une condition à chacun, ou marquez l'un "
        "d'eux comme flux par défaut.",
        "4 fichiers vérifiés : 1 erreur, 0 avertissement.",
    ]


def test_cli_refuses_a_missing_path_in_french(cli, tmp_path):
    result = cli.invoke(args=["processes", "validate", str(tmp_path / "absent.bpmn")])
    assert result.exit_code == 1 and "fichier ou dossier introuvable" in result.output


def test_cli_reports_an_orphan_panel_by_its_file(cli, tmp_path, monkeypatch):
    import webapp.process_cli

    (tmp_path / "volunter_file.html").write_text("<section></section>", encoding="utf-8")
    monkeypatch.setattr(webapp.process_cli, "PANELS_DIR", tmp_path)
    result = cli.invoke(args=["processes", "validate"])
    assert result.exit_code == 1
    assert f"{tmp_path / 'volunter_file.html'} : erreur : volunter_file : le panneau porte le nom de la tâche " \
           "« volunter_file »" in result.output
