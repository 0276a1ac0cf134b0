"""In Chromium: the BPMN modeler keeps our extensions, the properties panel edits them, saving shows the
validator's problems on the diagram, and a saved diagram is deployed through the review page; DMN tables open
in dmn-js; the form editor's preview follows the edits."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from playwright.sync_api import Page, expect

from engine.runtime.deployment import current_deployment
from engine.validation import validate_files

from .conftest import assert_accessible, login

ROOT = Path(__file__).resolve().parents[2]
EDITOR = "/administration/processus/editeur"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SAVED_XML = "() => window.ScModeler.saveXML({format: true}).then(saved => saved.xml)"


def canonical(node) -> tuple:
    """An XML element as comparable data: tag, attributes, text and children, in order."""
    return (node.tag, tuple(sorted(node.attrib.items())), (node.text or "").strip() if len(node) else node.text or "",
            tuple(canonical(child) for child in node))


def extensions(xml: str) -> dict[str, tuple]:
    """The extension elements of each element of a BPMN file, by element id."""
    root = etree.fromstring(xml.encode("utf-8"))
    return {element.get("id"): canonical(extension) for element in root.iter()
            for extension in element.findall(f"{{{BPMN_NS}}}extensionElements") if element.get("id")}


def problems(files: dict[str, str], key: str) -> set[tuple]:
    """The validator's problems of one file among the deployed ones."""
    return {(p.rule, p.element_id, p.message) for p in validate_files(files, [key]).problems if p.file == key}


def open_editor(page: Page, path: str) -> None:
    """Log in as the process owner and open an editor, once its content is loaded."""
    login(page, "pilote")
    page.goto(EDITOR + path)
    expect(page.locator('#editeur[data-ready="true"]')).to_have_count(1)


def select(page: Page, element_id: str) -> None:
    """Select a diagram element as a click on it would, and wait for the properties panel to show it."""
    page.evaluate("""id => { const m = window.ScModeler;
                             m.get('selection').select(m.get('elementRegistry').get(id)); }""", element_id)
    expect(page.locator(f'[data-properties][data-element="{element_id}"]')).to_have_count(1)


@pytest.mark.parametrize("name", sorted(path.name for path in (ROOT / "processes").glob("*.bpmn")))
def test_a_diagram_saved_by_the_modeler_keeps_every_extension(page, site, name):
    open_editor(page, f"/processes/{name}")
    saved = page.evaluate(SAVED_XML)
    with site.sessions() as session:
        files = dict(current_deployment(session).files)
    key = f"processes/{name}"
    assert extensions(saved) == extensions(files[key])
    assert problems({**files, key: saved}, key) == problems(files, key), "no new problem"
    assert page.errors == []


def test_a_decision_table_opens_in_dmn_js(page):
    open_editor(page, "/processes/volunteer_quota.dmn")
    table = page.locator("#editeur .tjs-table")
    expect(table).to_contain_text("Effectif d'élèves")
    expect(table).to_contain_text(">= 300")
    assert page.evaluate(SAVED_XML).count("<rule ") == 2
    assert page.errors == []


def test_the_form_preview_follows_the_edits(page):
    open_editor(page, "/forms/design_project.schema.json")
    preview = page.locator("#editeur [data-preview]")
    expect(preview.get_by_label("Intitulé de la mission")).to_be_visible()
    row = page.locator('[data-field="title"]')
    row.locator("summary").click()
    row.get_by_label("Titre", exact=True).fill("Titre de la mission proposée")
    row.get_by_label("Titre", exact=True).press("Tab")
    expect(preview.get_by_label("Titre de la mission proposée")).to_be_visible()
    page.get_by_role("button", name="Ajouter un champ").click()
    expect(preview.get_by_label("Nouveau champ")).to_be_visible()
    page.get_by_role("button", name="Monter le champ champ_1").click()
    expect(preview.locator("input, select, textarea").last).to_have_attribute("name", "reduced_mobility_access")
    expect(preview.locator("input, select, textarea").nth(-2)).to_have_attribute("name", "champ_1")
    page.get_by_role("button", name="Supprimer le champ champ_1").click()
    expect(preview.get_by_label("Nouveau champ")).to_have_count(0)
    page.get_by_label("Schéma (design_project.schema.json)").fill('{"type": "object", "properties": {')
    expect(page.locator("#editeur [data-preview-error]")).to_have_text(
        "Le schéma n'est pas du JSON valide (ligne 1, colonne 35).")
    assert page.errors == []


def test_edit_save_see_the_problems_then_deploy(page, site):
    with site.sessions() as session:
        before = current_deployment(session).id
    open_editor(page, "/processes/hosting_project.bpmn")
    bar = page.locator(".editor-bar")

    # A business rule task left without its decision: the problem is listed and the task outlined in red.
    select(page, "determine_quota")
    page.get_by_label("Décision (table DMN)").select_option("")
    bar.get_by_role("button", name="Enregistrer").click()
    expect(bar.locator("[data-problems]")).to_contain_text("n'appelle aucune table de décision")
    expect(page.locator('g.djs-element.sc-problem[data-element-id="determine_quota"]')).to_have_count(1)
    expect(bar.get_by_role("button", name="Lancer les scénarios")).to_be_disabled()

    # Fixed, and a task renamed in the properties panel: no problem left, the same staging goes on.
    page.get_by_label("Décision (table DMN)").select_option("volunteer_quota")
    select(page, "review_project")
    page.get_by_label("Libellé", exact=True).fill("Examiner le projet d'accueil")
    page.get_by_label("Libellé", exact=True).press("Tab")
    bar.get_by_role("button", name="Enregistrer").click()
    expect(bar.locator("[data-problems]")).to_contain_text("Aucun problème")
    expect(page.locator("g.djs-element.sc-problem")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"envoi=\d+"))

    bar.get_by_role("link", name="Préparer le déploiement").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("à confirmer")
    page.get_by_role("button", name="Déployer comme nouvelle version").click()
    expect(page.locator(".flash-success")).to_contain_text("déployée")
    with site.sessions() as session:
        deployed = current_deployment(session)
        assert deployed.id != before
        assert 'name="Examiner le projet d&#39;accueil"' in deployed.files["processes/hosting_project.bpmn"] or \
            "name=\"Examiner le projet d'accueil\"" in deployed.files["processes/hosting_project.bpmn"]
    assert page.errors == []


def test_the_properties_panel_writes_our_extensions(page):
    open_editor(page, "/processes/hosting_project.bpmn")
    panel = page.locator("[data-properties]")
    select(page, "review_project")
    due = panel.get_by_label("Échéance (durée ISO)")
    due.fill("quinze jours")
    due.press("Tab")
    expect(due).to_have_attribute("aria-invalid", "true")
    due.fill("P15D")
    due.press("Tab")
    panel.get_by_label("Libellé de l'attente").fill("Instruction en attente")
    panel.get_by_label("Libellé de l'attente").press("Tab")
    expect(panel.get_by_role("link", name="Modifier le formulaire")).to_have_attribute(
        "href", f"{EDITOR}/forms/review_project.schema.json")

    select(page, "notify_refusal")
    subject = panel.get_by_label("subject (obligatoire)")
    expect(subject).to_have_value('"Projet d\'accueil refusé"')
    subject.fill('"Projet refusé"')
    subject.press("Tab")
    panel.get_by_label("Variable du résultat").fill("refusal_mail")
    panel.get_by_label("Variable du résultat").press("Tab")

    select(page, "gestionnaire")
    expect(panel.get_by_label("Rôle")).to_have_value("gestionnaire")

    page.evaluate("() => window.ScModeler.get('selection').select([])")
    panel.get_by_label("tuteur", exact=True).check()
    saved = etree.fromstring(page.evaluate(SAVED_XML).encode("utf-8"))
    ns = {"bpmn": BPMN_NS, "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
    review = saved.find(".//bpmn:userTask[@id='review_project']", ns)
    properties = {p.get("name"): p.get("value") for p in review.iterfind(".//spiffworkflow:property", ns)}
    assert properties["dueIn"] == "P15D" and properties["waitingLabel"] == "Instruction en attente"
    assert properties["formJsonSchemaFilename"] == "review_project.schema.json"
    operator = saved.find(".//bpmn:serviceTask[@id='notify_refusal']//spiffworkflow:serviceTaskOperator", ns)
    assert operator.get("id") == "notify_referents" and operator.get("resultVariable") == "refusal_mail"
    parameters = {p.get("id"): (p.get("type"), p.get("value")) for p in operator.iterfind(".//spiffworkflow:parameter", ns)}
    assert parameters["subject"] == ("str", '"Projet refusé"') and parameters["establishment_id"][0] == "int"
    process = saved.find(".//bpmn:process[@id='hosting_project']/bpmn:extensionElements", ns)
    catalogue = {p.get("name"): p.get("value") for p in process.iterfind(".//spiffworkflow:property", ns)}
    assert catalogue["startableBy"] == "referent,tuteur" and catalogue["subject"] == "establishment"
    assert page.errors == []


@pytest.mark.parametrize("path", ["/processes/hosting_project.bpmn", "/processes/volunteer_quota.dmn",
                                  "/forms/design_project.schema.json"])
def test_the_editors_are_accessible(page, path):
    open_editor(page, path)
    assert_accessible(page)


@pytest.mark.parametrize("path", ["/processes/hosting_project.bpmn", "/forms/design_project.schema.json"])
def test_the_editors_run_under_the_strict_content_security_policy(chromium, site, path):
    # The other tests' pages bypass the CSP to inject axe-core: this one keeps it, as a person's browser does.
    context = chromium.new_context(base_url=site.url, locale="fr-FR")
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        open_editor(page, path)
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.locator(".editor-bar [data-problems]")).not_to_be_empty()
        assert violations == []
    finally:
        context.close()


def test_the_scenarios_of_a_saved_diagram_show_their_progress_then_their_outcomes(page, site, tmp_path):
    open_editor(page, "/processes/hosting_project.bpmn")
    bar = page.locator(".editor-bar")
    select(page, "review_project")
    # A label no other test of the module deploys: the upload changes the hosting project whatever ran before.
    page.get_by_label("Libellé", exact=True).fill("Instruire le projet d'accueil (relu)")
    page.get_by_label("Libellé", exact=True).press("Tab")
    bar.get_by_role("button", name="Enregistrer").click()
    expect(bar.locator("[data-problems]")).to_contain_text("Aucun problème")

    count = len(list((ROOT / "processes" / "scenarios").glob("*.yaml")))
    bar.get_by_role("button", name="Lancer les scénarios").click()
    results = bar.locator("[data-scenario-results]")
    # Played in the background: the bar names the scenario in progress, then lists the outcomes.
    expect(results).to_contain_text(re.compile(
        rf"Scénario \d+ sur {count}( \(d'abord ceux des processus modifiés : Projet d'accueil\))? : \S+\.yaml…"),
        timeout=60_000)
    expect(results.get_by_role("progressbar", name="Avancement des scénarios")).to_be_visible()
    page.screenshot(path=str(tmp_path / "scenarios-en-cours.png"))
    expect(results.get_by_role("heading", name=f"Scénarios : {count} réussis sur {count}")).to_be_visible(
        timeout=180_000)
    expect(results.locator("li.scenario-pass")).to_have_count(count)
    # The scenarios of the changed process were played first, and the list says so.
    expect(results.get_by_role("heading", name=re.compile(
        r"^Processus modifiés \(Projet d'accueil\), joués d'abord : (\d+) réussis sur \1$"))).to_be_visible()
    expect(results.get_by_role("heading", name=re.compile(r"^Autres scénarios : "))).to_be_visible()
    assert bar.get_by_role("button", name="Lancer les scénarios").is_enabled()
    assert page.errors == []
