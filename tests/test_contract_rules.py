"""The contract a gestionnaire signs as is: agrément number, a minor's contract, internal remarks, the medical
certificate, the State's conformity check before the mission starts, and the campaign's agrément form."""
from __future__ import annotations

import html
import json
from datetime import date, datetime

import pytest
from sqlalchemy import select
from test_contract import (
    CONTRACT_TASKS,
    GUARDIAN,
    active_after_contract,
    contracts,
    pdf_text,
    with_volunteer_file,
)

from engine.campaign.campaigns import CampaignInvalid, current_campaign, open_campaign, set_agreement_number
from engine.models import Campaign, Document
from engine.runtime.runtime import FormInvalid, ProcessRuntime
from engine.views.task_view import build_task_view
from handlers.context import HandlerContext, HandlerError
from handlers.contract import agreement_problem, contract_terms_rules, generate_contract, render_contract_html

from conftest import principal_of
from test_processes import do, ready, sample

GESTIONNAIRE = "gestionnaire.udogec35"
CAMPAIGN = {"school_year": "2027-2028", "earliest_start": "2027-09-01", "latest_start": "2028-01-31",
            "agreement_number": "NA-000-19-00107-00"}


def without_agreement_number(session) -> Campaign:
    """The open campaign, its agrément number removed (as a campaign opened without it)."""
    campaign = current_campaign(session)
    campaign.agreement_number = None
    session.commit()
    return campaign


def signed(runtime, session, **volunteer_changes):
    """A Rennes dossier whose contract was drawn up and whose signed copy was sent: the gestionnaire confirms next."""
    instance = with_volunteer_file(runtime, session, **volunteer_changes)
    do(runtime, session, instance.id, GESTIONNAIRE, "draw_up_contract", sample("draw_up_contract"))
    do(runtime, session, instance.id, "referent.rennes", "upload_signed_contract", sample("upload_signed_contract"))
    return instance


# --- the agrément number ------------------------------------------------------------------------------------------

def test_no_contract_is_drawn_up_while_the_campaign_has_no_agreement_number(runtime, session):
    instance = with_volunteer_file(runtime, session)
    campaign = without_agreement_number(session)
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, GESTIONNAIRE, "draw_up_contract", sample("draw_up_contract"))
    (message,) = invalid.value.errors["__form__"]
    assert message == ("Le numéro d'agrément Service Civique de la campagne 2027-2028 n'est pas renseigné : aucun "
                       "contrat ne peut être établi sans lui. L'administrateur de la plateforme l'indique dans "
                       "Administration › Campagnes, colonne « Numéro d'agrément ».")
    assert contracts(session, instance.id) == []

    set_agreement_number(session, principal_of(session, "pilote"), campaign, " na-000-21-00042-00 ")
    # A later request: handler contexts live for one request.
    later = ProcessRuntime(session, runtime.settings, clock=runtime.clock)
    do(later, session, instance.id, GESTIONNAIRE, "draw_up_contract", sample("draw_up_contract"))
    assert "Agrément Service Civique n° NA-000-21-00042-00" in pdf_text(later, contracts(session, instance.id)[0])


class _Directory:
    def establishment(self, establishment_id):
        raise AssertionError("the agrément number is checked before anything else")


def test_the_generation_service_task_refuses_a_campaign_without_agreement_number():
    context = HandlerContext(directory=_Directory(), contracts=None, documents=None, mailer=None,
                             today=date(2027, 6, 15), campaign={**CAMPAIGN, "agreement_number": None})
    with pytest.raises(HandlerError, match="Administration › Campagnes, colonne « Numéro d'agrément »"):
        generate_contract(context, sample("volunteer_file"), sample("draw_up_contract"), 1)


@pytest.mark.parametrize("number, accepted", [
    ("NA-00-19", True),                # 8 characters: the shortest accepted
    ("NA-00-1", False),                # 7
    ("N" * 37 + "-00", True),          # 40 characters: the longest
    ("N" * 38 + "-00", False),         # 41
    ("NA00019", False),                # no hyphen
    ("NA-000-19-00107-00", True),
    ("NA 000 19 00107 00", False),
    ("", False),
])
def test_agreement_number_shape(session, number, accepted):
    campaign = current_campaign(session)
    pilote = principal_of(session, "pilote")
    if accepted:
        set_agreement_number(session, pilote, campaign, number)
        assert session.get(Campaign, campaign.id).agreement_number == number
    else:
        with pytest.raises(CampaignInvalid) as invalid:
            set_agreement_number(session, pilote, campaign, number)
        assert invalid.value.errors["agreement_number"].startswith(
            "Indiquez le numéro d'agrément." if not number else "Numéro d'agrément invalide")


def test_a_campaign_may_be_opened_with_its_agreement_number_or_without_it(session):
    pilote = principal_of(session, "pilote")
    form = {"school_year": "2099-2100", "submission_deadline": "2099-05-31", "earliest_start": "2099-09-01",
            "latest_start": "2100-01-31", "agreement_number": "na-000-99-00001-00"}
    for year in ("2099-2100", "2100-2101"):
        current = current_campaign(session)
        current.closed_at = datetime.now()
        session.commit()
        if year == "2099-2100":
            with pytest.raises(CampaignInvalid) as invalid:
                open_campaign(session, pilote, {**form, "agreement_number": "NA"}, datetime.now())
            assert list(invalid.value.errors) == ["agreement_number"]
            assert open_campaign(session, pilote, form, datetime.now()).agreement_number == "NA-000-99-00001-00"
        else:
            later = {**form, "school_year": year, "submission_deadline": "2100-05-31", "earliest_start": "2100-09-01",
                     "latest_start": "2101-01-31", "agreement_number": ""}
            assert open_campaign(session, pilote, later, datetime.now()).agreement_number is None


def test_the_process_owner_sets_the_agreement_number_on_the_campaigns_page(browser, session):
    campaign = without_agreement_number(session)
    browser.login("pilote")
    page = html.unescape(browser.client.get("/administration/campagnes").get_data(as_text=True))
    assert "à indiquer : aucun contrat ne peut être établi sans lui" in page
    path = f"/administration/campagnes/{campaign.id}/agrement"
    refused = browser.post_form(path, {"agreement_number": "12"}, page="/administration/campagnes")
    assert refused.status_code == 302
    page = html.unescape(browser.client.get("/administration/campagnes").get_data(as_text=True))
    assert f"Campagne {campaign.school_year} : Numéro d'agrément invalide" in page
    browser.post_form(path, {"agreement_number": "NA-000-19-00107-00"}, page="/administration/campagnes")
    page = html.unescape(browser.client.get("/administration/campagnes").get_data(as_text=True))
    assert (f"Le numéro d'agrément NA-000-19-00107-00 figure désormais sur les contrats de la campagne "
            f"{campaign.school_year}.") in page
    assert "à indiquer : aucun contrat" not in page
    session.expire_all()
    assert session.get(Campaign, campaign.id).agreement_number == "NA-000-19-00107-00"


def test_only_a_process_owner_sets_the_agreement_number(browser, session):
    campaign = without_agreement_number(session)
    browser.login(GESTIONNAIRE)
    response = browser.post_form(f"/administration/campagnes/{campaign.id}/agrement",
                                 {"agreement_number": "NA-000-19-00107-00"}, page="/")
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Campaign, campaign.id).agreement_number is None


# --- what the contract says -----------------------------------------------------------------------------------------

def test_internal_remarks_are_kept_for_gestionnaires_and_never_printed(runtime, session):
    instance = with_volunteer_file(runtime, session)
    remark = "Vérifier la prise en charge de la cantine avec l'OGEC avant la signature."
    do(runtime, session, instance.id, GESTIONNAIRE, "draw_up_contract", sample("draw_up_contract", notes=remark))
    text = pdf_text(runtime, contracts(session, instance.id)[0])
    assert "Vérifier la prise en charge" not in text and "Observations" not in text
    (upload,) = ready(session, instance.id)
    waiting = runtime.ready_task(upload.id, principal_of(session, "referent.rennes"))
    assert waiting.task.data["contract_terms"]["notes"] == remark, "the remark stays in the dossier"


def test_a_template_asking_for_the_remarks_gets_nothing():
    volunteer = sample("volunteer_file")
    establishment = {"name": "Collège", "address": "1 rue", "postal_code": "35000", "city": "Rennes",
                     "uai": "0350001A", "phone": "+33299000000", "ogec_name": "OGEC", "siret": "73282932000074"}
    tutors = [{"name": "Thomas Riou", "email": "t@example.org", "phone": "+33635700010", "role_label": "Tuteur"}]
    page = render_contract_html(volunteer, sample("draw_up_contract"), establishment, tutors, date(2027, 6, 15),
                                agreement_number="NA-000-19-00107-00")
    assert "Repas pris à la cantine" not in page
    assert "Article 7 — Protection sociale" in page and "NA-000-19-00107-00" in page


def test_a_minors_hours_are_checked_on_the_contracts_start(runtime, session):
    # Born on 1 October 2009: 18 on 1 October 2027 (the file's start), 17 the day before.
    instance = with_volunteer_file(runtime, session, birth_date="2009-10-01", weekly_hours=36)
    task_data = {"volunteer": sample("volunteer_file", birth_date="2009-10-01", weekly_hours=36)}
    context = runtime.contexts.for_task(instance, ready(session, instance.id, "draw_up_contract")[0].id)
    assert contract_terms_rules(context, sample("draw_up_contract"), task_data) == []
    earlier = sample("draw_up_contract", contract_start_date="2027-09-30", contract_end_date="2028-05-31")
    found = contract_terms_rules(context, earlier, task_data)
    assert [field for field, _ in found] == ["contract_start_date", "contract_start_date"]
    assert "volontaire mineur (17 ans au début de la mission), la durée hebdomadaire est comprise entre 24 et 35 " \
           "heures (36 heures indiquées)" in found[0][1]
    assert found[1][1].endswith("le dossier ne donne pas le nom, l'adresse, le code postal, la commune, le "
                                "téléphone : choisissez un début à partir du 1er octobre 2027.")


def test_a_minors_contract_and_an_adults_contract(runtime, session):
    adult = signed(runtime, session)
    adult_text = pdf_text(runtime, contracts(session, adult.id)[0])
    assert "Représentant légal" not in adult_text and "Tutorat renforcé" not in adult_text
    minor = with_volunteer_file(runtime, session, birth_date="2010-05-02", **GUARDIAN)
    do(runtime, session, minor.id, GESTIONNAIRE, "draw_up_contract", sample("draw_up_contract"))
    text = pdf_text(runtime, contracts(session, minor.id)[0])
    for expected in ("Représentant légal du volontaire mineur Paul Martin 4 allée des Tilleuls, 35510 Cesson-Sévigné",
                     "Le représentant légal autorise l'engagement du volontaire mineur",
                     "Tutorat renforcé", "Le représentant légal Paul Martin", "Fait en quatre exemplaires",
                     "Agrément Service Civique n° NA-000-19-00107-00", "protection sociale"):
        assert expected in text, expected


# --- the medical certificate ----------------------------------------------------------------------------------------

def test_the_signed_contract_comes_with_the_medical_certificate(runtime, session):
    instance = with_volunteer_file(runtime, session)
    do(runtime, session, instance.id, GESTIONNAIRE, "draw_up_contract", sample("draw_up_contract"))
    without = sample("upload_signed_contract")
    del without["medical_certificate"]
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "referent.rennes", "upload_signed_contract", without)
    assert invalid.value.errors == {"medical_certificate": ["Ce champ est obligatoire."]}
    do(runtime, session, instance.id, "referent.rennes", "upload_signed_contract", sample("upload_signed_contract"))
    (row,) = ready(session, instance.id, "confirm_contract")
    waiting = runtime.ready_task(row.id, principal_of(session, GESTIONNAIRE))
    view = build_task_view(session, row, waiting.task, waiting.bundle)
    (section,) = [s for s in view.context if s.title == "Le contrat signé déposé par le référent"]
    (line,) = [ln for ln in section.lines if ln.label == "Certificat médical de non contre-indication"]
    certificate = session.get(Document, line.document_id)
    assert certificate is not None and certificate.filename == "certificat-medical.pdf"


# --- the State's conformity check -----------------------------------------------------------------------------------

def test_confirming_needs_the_conformity_check_and_its_elisa_reference(runtime, session):
    instance = signed(runtime, session)
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, GESTIONNAIRE, "confirm_contract", {"decision": "confirm"})
    assert invalid.value.errors == {"conformity_check": ["Ce champ est obligatoire."],
                                    "elisa_reference": ["Ce champ est obligatoire."]}
    assert active_after_contract(runtime, instance) == []


def test_a_contract_found_not_conform_cannot_start(runtime, session):
    instance = signed(runtime, session)
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, GESTIONNAIRE, "confirm_contract",
           sample("confirm_contract", conformity_check="not_conform"))
    assert list(invalid.value.errors) == ["conformity_check"]
    do(runtime, session, instance.id, GESTIONNAIRE, "confirm_contract",
       {"decision": "redraw", "comment": "Contrat jugé non conforme : durée hebdomadaire à revoir.",
        "conformity_check": "not_conform", "elisa_reference": "CT-035-27-00412"})
    assert [r.spec_id for r in ready(session, instance.id)] == ["draw_up_contract"]


def test_before_the_check_ends_the_mission_starts_only_when_the_organisme_takes_it_on(runtime, session):
    instance = signed(runtime, session)
    pending = sample("confirm_contract", conformity_check="pending")
    for refused in (pending, {**pending, "organisme_takes_on": False}):
        with pytest.raises(FormInvalid) as invalid:
            do(runtime, session, instance.id, GESTIONNAIRE, "confirm_contract", refused)
        assert list(invalid.value.errors) == ["organisme_takes_on"]
    assert active_after_contract(runtime, instance) == []
    do(runtime, session, instance.id, GESTIONNAIRE, "confirm_contract", {**pending, "organisme_takes_on": True})
    assert not {row.spec_id for row in ready(session, instance.id)} & CONTRACT_TASKS
    assert active_after_contract(runtime, instance)


def test_a_conform_contract_starts_the_mission(runtime, session):
    instance = signed(runtime, session)
    do(runtime, session, instance.id, GESTIONNAIRE, "confirm_contract", sample("confirm_contract"))
    assert active_after_contract(runtime, instance)
    assert session.scalar(select(Document.id).where(Document.instance_id == instance.id,
                                                    Document.filename == "certificat-medical.pdf")) is not None


def test_the_takeover_checkbox_says_what_the_organisme_is_bound_to():
    import json
    from pathlib import Path

    schema = json.loads((Path(__file__).parent.parent / "forms" / "confirm_contract.schema.json").read_text("utf-8"))
    warning = schema["properties"]["organisme_takes_on"]["description"]
    assert "engage l'organisme agréé seul" in warning and "indemnité comprise" in warning and "R. 121-13" in warning


def test_a_dossier_of_a_campaign_the_platform_does_not_know_leaves_the_number_to_write_by_hand():
    volunteer = sample("volunteer_file")
    establishment = {"name": "Collège", "address": "1 rue", "postal_code": "35000", "city": "Rennes",
                     "uai": "0350001A", "phone": "+33299000000", "ogec_name": "OGEC", "siret": "73282932000074"}
    tutors = [{"name": "Thomas Riou", "email": "t@example.org", "phone": "+33635700010", "role_label": "Tuteur"}]
    assert agreement_problem(None) is None
    assert agreement_problem({**CAMPAIGN, "agreement_number": ""}) is not None
    page = render_contract_html(volunteer, sample("draw_up_contract"), establishment, tutors, date(2027, 6, 15))
    assert 'Agrément Service Civique n°&nbsp;<span class="blank"></span>' in page and "None" not in page


def test_one_service_civique_ever_counts_ended_engagements_of_any_campaign(runtime, session):
    from engine.directory.lookups import SqlContracts

    from follow_up_support import to_follow_up

    followed = to_follow_up(runtime, session)
    # Two years later, in another dossier: the engagement has ended, it still counts.
    later = SqlContracts(session, None, date(2029, 9, 1))
    (found,) = later.engagements_for("léa", "MARTIN", "2005-03-12")
    assert (found["instance_id"], found["ended"], found["school"]) == (followed.id, True, "Collège Saint-Joseph")
    # Another person: another birth date (a shared family email would not make them the same person).
    assert later.engagements_for("Léa", "Martin", "2005-03-13") == []
    # The contract redrawn for the same place of the same dossier is not a second engagement.
    assert SqlContracts(session, followed.id, date(2027, 9, 1)).engagements_for(
        "Léa", "Martin", "2005-03-12", place=1) == []


def test_a_persons_other_contracts_are_found_by_the_birth_date_index_not_by_reading_every_contract(session):
    from query_plans import plan_of

    from engine.directory.lookups import ENGAGEMENTS

    plan = plan_of(session, ENGAGEMENTS, {"first_name": "léa", "last_name": "martin", "birth_date": "2005-03-12"})
    assert "ix_volunteer_contract_birth_date" in plan and "SCAN volunteer_contract" not in plan


def test_internal_remarks_are_never_shown_to_school_staff(runtime, session, browser, api):
    from test_processes import accepted_project, do, sample

    instance = accepted_project(runtime, session)
    for spec_id, login in (("select_volunteer", "referent.rennes"), ("confirm_selection", "tuteur.rennes"),
                           ("volunteer_file", "referent.rennes")):
        do(runtime, session, instance.id, login, spec_id, sample(spec_id))
    do(runtime, session, instance.id, "gestionnaire.udogec35", "draw_up_contract",
       sample("draw_up_contract", notes="Dossier suivi de près : école en difficulté."))
    remark = "Dossier suivi de près : école en difficulté."
    browser.login("referent.rennes")
    assert remark not in html.unescape(browser.client.get(f"/dossiers/{instance.id}").get_data(as_text=True))
    assert remark not in json.dumps(api.get(f"/api/v1/instances/{instance.id}", "referent.rennes").json,
                                    ensure_ascii=False)
    assert remark in json.dumps(api.get(f"/api/v1/instances/{instance.id}", "gestionnaire.udogec35").json,
                                ensure_ascii=False)
