"""The offer publication aid (step 3): the accepted project laid out as the official site asks, ready to copy."""
from __future__ import annotations

import html
from datetime import date

from sqlalchemy import select

from engine.models import AuditEvent
from handlers.context import HandlerContext
from handlers.offer import prepare_mission_offer

from conftest import SAMPLES
from test_processes import do, ready, sample, start_project

RENNES = {"id": 1, "uai": "0350781J", "name": "Collège Saint-Joseph", "ogec_name": "OGEC Saint-Joseph de Rennes",
          "address": "12 rue de Fougères", "postal_code": "35700", "city": "Rennes", "department": "35",
          "siret": "77751234500011", "phone": "+33299381200"}


class Directory:
    """The school and its référent."""

    def establishment(self, establishment_id):
        return RENNES if establishment_id == 1 else None

    def people(self, establishment_id, roles):
        assert roles == ("referent",)
        return [{"name": "Anne Le Goff", "email": "referent.rennes@example.org", "phone": "+33635700000"}]


def offer(**project_changes) -> dict:
    """The offer prepared from the sample project."""
    context = HandlerContext(directory=Directory(), contracts=None, documents=None, mailer=None,
                             today=date(2027, 4, 1))
    return prepare_mission_offer(context, {**SAMPLES["design_project"], **project_changes}, 1, 1)


def test_the_offer_has_the_fields_of_the_official_site_in_order():
    fields = {field["label"]: field["value"] for field in offer()["fields"]}
    assert list(fields) == [
        "Titre de la mission", "Domaine d'action", "Description de la mission", "Activités du volontaire",
        "Date de début", "Date de fin", "Durée de la mission", "Durée hebdomadaire",
        "Nombre de volontaires recherchés", "Lieu de la mission", "Département", "Organisme d'accueil",
        "SIRET de l'organisme", "Organisme agréé", "Contact", "Ouverte aux mineurs dès 16 ans",
        "Accessible aux personnes à mobilité réduite"]
    assert fields["Titre de la mission"] == "Aide aux devoirs et accompagnement des élèves"
    assert fields["Domaine d'action"] == "Éducation pour tous"
    assert (fields["Date de début"], fields["Date de fin"]) == ("13/09/2027", "12/05/2028")
    assert fields["Durée de la mission"] == "8 mois" and fields["Durée hebdomadaire"] == "28 heures par semaine"
    assert fields["Nombre de volontaires recherchés"] == "1"
    assert fields["Lieu de la mission"] == "12 rue de Fougères, 35700 Rennes"
    assert fields["Organisme d'accueil"] == "Collège Saint-Joseph (OGEC Saint-Joseph de Rennes)"
    assert fields["Contact"] == "Anne Le Goff, referent.rennes@example.org, 06 35 70 00 00"
    assert (fields["Ouverte aux mineurs dès 16 ans"], fields["Accessible aux personnes à mobilité réduite"]) == (
        "Non", "Oui")


def test_the_whole_text_holds_every_field_once():
    prepared = offer(open_to_minors=True)
    for field in prepared["fields"]:
        assert prepared["text"].count(f"{field['label']} : {field['value']}") == 1
    assert "Ouverte aux mineurs dès 16 ans : Oui" in prepared["text"]


def test_the_publish_task_shows_the_offer_ready_to_copy_and_records_the_publication(browser, session, runtime):
    instance = start_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    do(runtime, session, instance.id, "gestionnaire.udogec35", "review_project", sample("review_project"))
    (row,) = ready(session, instance.id, "publish_offer")
    browser.login("referent.rennes")
    page = html.unescape(browser.client.get(f"/taches/{row.id}").get_data(as_text=True))
    assert "Texte de l'annonce, prêt à copier" in page and "/static/copy.js" in page
    assert page.count('class="copy"') == 18, "a button per field, and one for the whole text"
    assert 'data-copy="offre-title"' in page and 'id="offre-title">Aide aux devoirs' in page
    assert "Anne Le Goff, referent.rennes@example.org, 06 35 70 00 00" in page
    assert "<script>" not in page, "no inline script: the copy buttons come from a static file"
    script = browser.client.get("/static/copy.js")
    assert script.status_code == 200 and b"clipboard" in script.data
    script.close()
    response = browser.post_form(f"/taches/{row.id}", {"offer_reference": "SC-2027-0042",
                                                        "offer_url": "https://www.service-civique.gouv.fr/mission/42",
                                                        "published_on": "2026-05-20"})
    assert response.status_code == 302
    event = session.scalar(select(AuditEvent).where(AuditEvent.spec_id == "publish_offer"))
    assert event.data == {"offer_reference": "SC-2027-0042",
                          "offer_url": "https://www.service-civique.gouv.fr/mission/42", "published_on": "2026-05-20"}
