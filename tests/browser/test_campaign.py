"""In Chromium: the whole hosting campaign clicked through page by page, each step by its role.

Every task page met on the way is checked with axe-core, as it first shows and, for the project design,
with validation errors. Only the follow-up timer is moved by hand: one pass of the background worker whose
clock reads the first month of the mission, as the worker would do on that day.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from .conftest import assert_accessible, choose, field, login, logout, open_page
from follow_up_support import run_worker

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
FIRST_MONTH = datetime(2027, 11, 1, 10, 0)
SUBMIT = "Valider et transmettre"
# Dates that record a fact (a publication, an interview, a signature) cannot be after the day the test runs.
TODAY = date.today().isoformat()


def pdf_file(name: str) -> dict:
    """A small PDF as a file chooser gives it."""
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


def open_task(page: Page, title: str) -> None:
    """From the inbox, open the task titled `title`, and check its page for accessibility."""
    page.goto("/")
    page.get_by_role("link", name=title, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    assert_accessible(page)


def submit(page: Page, title: str, confirm: str | None = None) -> None:
    """Send the task form (through its confirmation page when the action is final) and check the inbox says so.

    The send button is named after the decision chosen (« Accepter le projet »), or « Valider et transmettre ».
    """
    page.locator("form.task-form button[data-submit-button]").click()
    if confirm:
        expect(page.get_by_role("heading", level=1)).to_have_text(f"{title} ?")
        assert_accessible(page)
        page.get_by_role("button", name=confirm, exact=True).click()
    expect(page.get_by_role("status").filter(has_text=f"« {title} » est enregistré.")).to_be_visible()
    assert urlsplit(page.url).path == "/"


def as_person(chromium, site, login_name: str) -> Page:
    """A page of its own (own cookies) logged in as `login_name`."""
    page = open_page(chromium, site)
    login(page, login_name)
    return page


def design_project(page: Page) -> None:
    """The référent starts the project, first sends it with mistakes, corrects them and sends it."""
    inbox = page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Mes tâches")
    expect(inbox).to_have_attribute("aria-current", "page")
    page.get_by_role("button", name=re.compile(r"^Concevoir le projet d'accueil")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Concevoir et déposer le projet d'accueil")
    page.get_by_role("button", name="Revenir plus tard").click()
    open_task(page, "Concevoir et déposer le projet d'accueil")

    description = "Accompagner les élèves de collège dans leur travail personnel, en lien avec les professeurs."
    page.get_by_label("Domaine d'action").select_option(label="Éducation pour tous")
    field(page, "Description de la mission").fill(description)
    field(page, "Activités confiées au volontaire").fill("Étude du soir, soutien en petits groupes, sorties.")
    field(page, "Nombre de places demandées").fill("1")
    field(page, "Date de début souhaitée").fill("2027-09-13")
    field(page, "Durée de la mission (en mois)").fill("8")
    field(page, "Durée hebdomadaire (en heures)").fill("60")
    page.get_by_role("button", name=SUBMIT).click()

    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient 2 erreurs")
    assert page.title().startswith("Erreur — ")
    title = field(page, "Intitulé de la mission")
    hours = field(page, "Durée hebdomadaire (en heures)")
    expect(title).to_have_attribute("aria-invalid", "true")
    expect(title).to_have_accessible_description(re.compile("Ce champ est obligatoire."))
    expect(hours).to_have_attribute("aria-invalid", "true")
    expect(hours).to_have_accessible_description(re.compile("comprise entre 24 et 48 heures"))
    expect(field(page, "Description de la mission")).to_have_value(description)
    expect(field(page, "Date de début souhaitée")).to_have_value("2027-09-13")
    expect(page.get_by_label("Domaine d'action")).to_have_value("education")
    expect(hours).to_have_value("60")
    assert_accessible(page)

    page.get_by_role("alert").get_by_role("link", name="Intitulé de la mission").click()
    expect(title).to_be_focused()
    title.fill("Aide aux devoirs et accompagnement des élèves")
    hours.fill("28")
    page.get_by_label("Accessible aux personnes à mobilité réduite").check()
    submit(page, "Concevoir et déposer le projet d'accueil")


def test_the_campaign_clicked_through_by_each_role(chromium, site):
    referent = as_person(chromium, site, "referent.rennes")
    design_project(referent)

    gestionnaire = as_person(chromium, site, "gestionnaire.udogec35")
    open_task(gestionnaire, "Instruire le projet d'accueil")
    choose(gestionnaire, "Décision", "Accepter le projet")
    field(gestionnaire, "Nombre de places accordées").fill("1")
    field(gestionnaire, "Motif ou demandes de modification").fill("Projet clair et bien construit.")
    submit(gestionnaire, "Instruire le projet d'accueil")

    open_task(referent, "Publier l'offre sur service-civique.gouv.fr")
    field(referent, "Référence de l'annonce").fill("SC-2027-001234")
    field(referent, "Adresse de l'annonce").fill("https://www.service-civique.gouv.fr/trouver-ma-mission/aide-devoirs")
    field(referent, "Date de publication").fill(TODAY)
    submit(referent, "Publier l'offre sur service-civique.gouv.fr")

    open_task(referent, "Proposer un candidat")
    field(referent, "Prénom du candidat").fill("Léa")
    field(referent, "Nom du candidat").fill("Martin")
    field(referent, "Adresse électronique du candidat").fill("lea.martin@example.fr")
    field(referent, "Téléphone du candidat").fill("06 12 34 56 78")
    field(referent, "Date de l'entretien").fill(TODAY)
    field(referent, "Nombre de candidats rencontrés").fill("3")
    field(referent, "Motifs du choix").fill("Motivation et expérience de l'animation auprès des jeunes.")
    submit(referent, "Proposer un candidat")

    tuteur = as_person(chromium, site, "tuteur.rennes")
    open_task(tuteur, "Donner son avis sur le candidat")
    choose(tuteur, "Validez-vous le choix du candidat ?", "Oui, je valide ce choix")
    field(tuteur, "Commentaire").fill("Candidate très motivée.")
    submit(tuteur, "Donner son avis sur le candidat")

    open_task(referent, "Constituer le dossier du volontaire")
    expect(field(referent, "Prénom")).to_have_value("Léa")
    field(referent, "Date de naissance").fill("2005-03-12")
    field(referent, "Lieu de naissance").fill("Vannes")
    choose(referent, "Nationalité ou titre de séjour", "Nationalité française")
    field(referent, "Téléphone").fill("+33 6 12 34 56 78")
    field(referent, "Adresse").fill("12 rue de la République")
    field(referent, "Code postal").fill("35000")
    field(referent, "Commune").fill("Rennes")
    field(referent, "Niveau d'études").select_option(label="Baccalauréat")
    choose(referent, "Critères sociaux", "Aucun critère social")
    field(referent, "Début de mission").fill("2027-10-01")
    field(referent, "Fin de mission").fill("2028-05-31")
    field(referent, "Durée hebdomadaire (en heures)").fill("28")
    field(referent, "Tuteur").select_option(label="Thomas Riou (tuteur)")
    field(referent, "Cotuteur").select_option(label="Claire Morvan (cotuteur)")
    field(referent, "Pièce d'identité").set_input_files(pdf_file("piece-identite.pdf"))
    referent.get_by_label("N'a jamais effectué de Service Civique").check()
    submit(referent, "Constituer le dossier du volontaire")

    open_task(gestionnaire, "Établir les termes du contrat")
    field(gestionnaire, "Date de début du contrat").fill("2027-10-01")
    field(gestionnaire, "Date de fin du contrat").fill("2028-05-31")
    field(gestionnaire, "Prestation de subsistance versée par l'établissement (€ par mois)").fill("114.85")
    field(gestionnaire, "Lieu d'exercice de la mission").fill("Collège Saint-Joseph, 12 rue de Fougères, 35700 Rennes")
    submit(gestionnaire, "Établir les termes du contrat")

    open_task(referent, "Déposer le contrat signé")
    with referent.expect_download() as download:
        referent.get_by_role("link", name=re.compile("^Contrat d'engagement")).first.click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    field(referent, "Contrat signé").set_input_files(pdf_file("contrat-signe.pdf"))
    field(referent, "Certificat médical de non contre-indication").set_input_files(pdf_file("certificat-medical.pdf"))
    field(referent, "Date de signature").fill(TODAY)
    submit(referent, "Déposer le contrat signé")

    open_task(gestionnaire, "Confirmer le contrat signé")
    choose(gestionnaire, "Décision", "Confirmer : le contrat est signé et complet")
    choose(gestionnaire, "Contrôle de conformité de l'État", "Contrôle terminé : contrat conforme")
    field(gestionnaire, "Référence ELISA du contrat").fill("035-2027-000123")
    submit(gestionnaire, "Confirmer le contrat signé", confirm="Confirmer le contrat")

    run_worker(site.sessions, site.storage_dir.parent, FIRST_MONTH)
    open_task(tuteur, "Consigner le suivi mensuel")
    field(tuteur, "Date de l'entretien").fill(TODAY)
    choose(tuteur, "L'entretien a-t-il eu lieu ?", "Oui")
    field(tuteur, "Activités du mois").fill("Étude du soir trois fois par semaine.")
    choose(tuteur, "Participation aux formations", "En cours")
    submit(tuteur, "Consigner le suivi mensuel")
    expect(tuteur.get_by_role("link", name="Consigner le suivi mensuel")).to_have_count(0)

    # The référent finds the whole path in the dossier's history, down to the follow-up just recorded.
    referent.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Dossiers").click()
    referent.get_by_role("link", name="Projet d'accueil — Collège Saint-Joseph").click()
    expect(referent.get_by_role("heading", name="Ce qui a été fait")).to_be_visible()
    entered = referent.get_by_role("definition", include_hidden=True).all_text_contents()
    assert "Aide aux devoirs et accompagnement des élèves" in entered
    assert "Étude du soir trois fois par semaine." in entered

    for person in (referent, gestionnaire, tuteur):
        assert person.errors == []
        person.context.close()


def test_after_logging_out_a_protected_page_asks_to_log_in(page):
    login(page, "tuteur.rennes")
    logout(page)
    expect(page.get_by_role("status").filter(has_text="Déconnexion effectuée.")).to_be_visible()
    page.goto("/notifications/")
    assert urlsplit(page.url).path == "/connexion"
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")


def test_another_schools_file_and_the_administration_are_refused_in_french(chromium, site):
    brest = as_person(chromium, site, "referent.brest")
    brest.get_by_role("button", name=re.compile(r"^Concevoir le projet d'accueil")).click()
    expect(brest.get_by_role("heading", level=1)).to_contain_text("Concevoir et déposer le projet d'accueil")
    brest_file = brest.get_by_role("navigation", name="Fil d'Ariane").get_by_role("link").last.get_attribute("href")
    task_page = urlsplit(brest.url).path
    brest.context.close()

    referent = as_person(chromium, site, "referent.rennes")
    # Another school's dossier answers as a missing one; a task or a page of another role is refused.
    for path, status, heading in ((brest_file, 404, "Page introuvable"), ("/dossiers/999999", 404, "Page introuvable"),
                                  (task_page, 403, "Accès refusé"), ("/administration/campagnes", 403, "Accès refusé")):
        response = referent.goto(path)
        assert response.status == status, path
        expect(referent.get_by_role("heading", level=1)).to_have_text(heading)
        expect(referent.get_by_role("link", name="Retour à mes tâches")).to_be_visible()
    # The same answer, word for word (the pages differ only by the logout form's token).
    referent.goto(brest_file)
    outside = referent.locator("main").inner_text()
    referent.goto("/dossiers/999999")
    assert outside == referent.locator("main").inner_text()
    assert referent.errors == []
    referent.context.close()
