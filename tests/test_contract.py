"""The contract (step 6): its PDF, its versions, the signed copy and its confirmation, through the engine."""
from __future__ import annotations

import pytest
from pypdf import PdfReader
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.documents import list_documents
from engine.models import Document, VolunteerContract
from engine.runtime.runtime import FormInvalid
from engine.views.task_view import build_task_view

from conftest import principal_of
from test_processes import accepted_project, do, ready, sample

CONTRACT_TASKS = {"draw_up_contract", "upload_signed_contract", "confirm_contract"}
# The legal representative of a minor volunteer, as the volunteer file gives them.
GUARDIAN = {"guardian_name": "Paul Martin", "guardian_phone": "06 11 22 33 44", "guardian_email": "paul.martin@example.fr",
            "guardian_address": "4 allée des Tilleuls", "guardian_postal_code": "35510",
            "guardian_city": "Cesson-Sévigné"}


def with_volunteer_file(runtime, session, **changes):
    """A Rennes project whose volunteer file (with the given changes) was accepted: the contract is next."""
    instance = accepted_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "select_volunteer", sample("select_volunteer"))
    do(runtime, session, instance.id, "tuteur.rennes", "confirm_selection", sample("confirm_selection"))
    do(runtime, session, instance.id, "referent.rennes", "volunteer_file", sample("volunteer_file", **changes))
    return instance


def contracts(session, instance_id: int) -> list[Document]:
    """The contract documents of an instance, oldest first."""
    return list(session.scalars(select(Document).where(Document.instance_id == instance_id,
                                                       Document.kind == "contract").order_by(Document.version)))


def pdf_text(runtime, document: Document) -> str:
    """The text of a PDF document, as a reader library extracts it, spaces normalised."""
    reader = PdfReader(runtime.documents.path_of(document))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


# The volunteer path from selection to the contract's confirmation; what comes next is the follow-up.
BEFORE_FOLLOW_UP = {"volunteer_start", "select_volunteer_merge", "select_volunteer", "confirm_selection",
                    "selection_gateway", "volunteer_file_merge", "volunteer_file", "check_eligibility_task",
                    "eligibility_gateway", "draw_up_contract_merge", "draw_up_contract", "generate_contract_task",
                    "upload_signed_contract_merge", "upload_signed_contract", "confirm_contract", "contract_gateway"}


def active_after_contract(runtime, instance) -> list[str]:
    """Engine tasks under way in the volunteer path beyond the contract (the follow-up part)."""
    workflow = runtime.load(instance).workflow
    active = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED)
    return [t.task_spec.bpmn_id for t in active
            if t.workflow.spec.name != "hosting_project" and t.task_spec.bpmn_id not in BEFORE_FOLLOW_UP]


def test_contract_pdf_holds_the_parties_dates_amounts_and_tutors(runtime, session):
    instance = with_volunteer_file(runtime, session)
    (terms,) = ready(session, instance.id, "draw_up_contract")
    assert terms.lane == "gestionnaire" and terms.structure_code == "UDOGEC-35"
    do(runtime, session, instance.id, "gestionnaire.udogec35", "draw_up_contract", sample("draw_up_contract"))
    (contract,) = contracts(session, instance.id)
    assert (contract.version, contract.place, contract.content_type) == (1, 1, "application/pdf")
    assert contract.filename == "contrat-martin-lea-v1.pdf"
    text = pdf_text(runtime, contract)
    for expected in ("Contrat d'engagement de Service Civique", "Version 1 du contrat", "Fnogec",
                     "Udogec d'Ille-et-Vilaine", "Collège Saint-Joseph", "OGEC Saint-Joseph de Rennes",
                     "Léa Martin", "Naissance : 12 mars 2005 à Vannes", "du 1er octobre 2027 au 31 mai 2028",
                     "28 heures", "Thomas Riou", "Claire Morvan", "504,98 €", "114,85 €", "619,83 €",
                     "Aide aux devoirs et accompagnement des élèves", "deux jours de congé", "Signatures",
                     "Agrément Service Civique n° NA-000-19-00107-00", "Article 7 — Protection sociale",
                     "L'État finance l'intégralité de sa protection sociale"):
        assert expected in text, expected
    assert "Majoration" not in text and "représentant légal" not in text and "Tutorat renforcé" not in text
    assert "Fait en trois exemplaires" in text
    row = session.scalar(select(VolunteerContract).where(VolunteerContract.instance_id == instance.id))
    assert (row.place, row.start_date, row.end_date) == (1, "2027-10-01", "2028-05-31")
    (upload,) = ready(session, instance.id)
    assert (upload.spec_id, upload.lane) == ("upload_signed_contract", "referent")


def test_social_criteria_and_a_minor_change_the_contract(runtime, session):
    proof = sample("volunteer_file")["identity_document"].replace("piece-identite", "attestation-rsa")
    instance = with_volunteer_file(runtime, session, birth_date="2010-05-02", social_criteria="rsa",
                                   social_criteria_proof=proof, **GUARDIAN)
    do(runtime, session, instance.id, "gestionnaire.udogec35", "draw_up_contract", sample("draw_up_contract"))
    text = pdf_text(runtime, contracts(session, instance.id)[0])
    assert "Majoration sur critères sociaux (membre d'un foyer bénéficiaire du RSA)" in text
    assert "734,68 €" in text
    assert "Mineur (17 ans au début de la mission)" in text
    assert "Représentant légal du volontaire mineur Paul Martin 4 allée des Tilleuls, 35510 Cesson-Sévigné" in text
    assert "06 11 22 33 44 — paul.martin@example.fr" in text
    assert "Le représentant légal Paul Martin, qui autorise l'engagement du volontaire mineur" in text
    assert "Tutorat renforcé" in text and "Fait en quatre exemplaires" in text
    assert "trois jours de congé" in text and "sans travail de nuit" in text
    loaded = runtime.load(instance)
    (upload,) = loaded.workflow.get_tasks(state=TaskState.READY, manual=True)
    assert upload.data["contract"]["minor"] is True and upload.data["contract"]["version"] == 1
    assert "et ses représentants légaux" in build_task_view(session, ready(session, instance.id)[0], upload,
                                                            loaded.bundle).instructions


def test_contract_terms_are_prefilled_from_the_file_and_checked(runtime, session):
    instance = with_volunteer_file(runtime, session)
    (row,) = ready(session, instance.id, "draw_up_contract")
    waiting = runtime.ready_task(row.id, principal_of(session, "gestionnaire.udogec35"))
    view = build_task_view(session, row, waiting.task, waiting.bundle)
    assert view.values == {"contract_start_date": "2027-10-01", "contract_end_date": "2028-05-31",
                           "host_complement_amount": 114.85, "host_complement_in_kind": False,
                           "mission_place": "Collège Saint-Joseph"}
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "gestionnaire.udogec35", "draw_up_contract",
           sample("draw_up_contract", contract_end_date="2028-03-30", host_complement_amount=100))
    assert "au moins 6 mois" in invalid.value.errors["contract_end_date"][0]
    assert invalid.value.errors["host_complement_amount"] == ["La prestation de subsistance est d'au moins 114,85\u00a0€ par mois."]
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "gestionnaire.udogec35", "draw_up_contract",
           sample("draw_up_contract", contract_start_date="2028-02-01", contract_end_date="2028-09-30"))
    assert "entre le 1er septembre 2027 et le 31 janvier 2028" in invalid.value.errors["contract_start_date"][0]
    assert contracts(session, instance.id) == []


def test_redrawing_makes_a_second_version_and_keeps_the_first(runtime, session):
    instance = with_volunteer_file(runtime, session)
    do(runtime, session, instance.id, "gestionnaire.udogec35", "draw_up_contract", sample("draw_up_contract"))
    do(runtime, session, instance.id, "referent.rennes", "upload_signed_contract", sample("upload_signed_contract"))
    do(runtime, session, instance.id, "gestionnaire.udogec35", "confirm_contract",
       {"decision": "redraw", "comment": "La mission finit le 30 juin."})
    (row,) = ready(session, instance.id)
    assert row.spec_id == "draw_up_contract"
    waiting = runtime.ready_task(row.id, principal_of(session, "gestionnaire.udogec35"))
    view = build_task_view(session, row, waiting.task, waiting.bundle)
    assert "Le contrat précédent (version 1) est à refaire : La mission finit le 30 juin." in view.instructions
    assert view.values["notes"] == sample("draw_up_contract")["notes"], "the terms given before are proposed again"
    do(runtime, session, instance.id, "gestionnaire.udogec35", "draw_up_contract",
       sample("draw_up_contract", contract_end_date="2028-06-30"))
    first, second = contracts(session, instance.id)
    assert (first.version, second.version) == (1, 2) and first.series == second.series == "contract/place-1"
    assert runtime.documents.path_of(first).is_file(), "the first version is kept"
    assert "31 mai 2028" in pdf_text(runtime, first)
    assert "30 juin 2028" in pdf_text(runtime, second) and "Version 2 du contrat" in pdf_text(runtime, second)
    listed = {item.document.version: item.current for item in list_documents(session, instance.id)
              if item.document.kind == "contract"}
    assert listed == {1: False, 2: True}
    rows = session.scalars(select(VolunteerContract).where(VolunteerContract.instance_id == instance.id)).all()
    assert [(r.place, r.end_date) for r in rows] == [(1, "2028-06-30")], "one contract per place, updated"
    old_copy = session.scalar(select(Document.id).where(Document.instance_id == instance.id,
                                                        Document.kind == "signed_contract"))
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "referent.rennes", "upload_signed_contract",
           sample("upload_signed_contract", signed_contract={"document_id": old_copy}))
    assert invalid.value.errors["signed_contract"] == [
        "Déposez la copie signée de la version 2 du contrat : le fichier joint a été déposé pour une version précédente."]
    do(runtime, session, instance.id, "referent.rennes", "upload_signed_contract", sample("upload_signed_contract"))


def test_a_new_signed_copy_can_be_asked(runtime, session):
    instance = with_volunteer_file(runtime, session)
    do(runtime, session, instance.id, "gestionnaire.udogec35", "draw_up_contract", sample("draw_up_contract"))
    do(runtime, session, instance.id, "referent.rennes", "upload_signed_contract", sample("upload_signed_contract"))
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "gestionnaire.udogec35", "confirm_contract", {"decision": "resend"})
    assert invalid.value.errors == {"comment": ["Ce champ est obligatoire."]}
    do(runtime, session, instance.id, "gestionnaire.udogec35", "confirm_contract",
       {"decision": "resend", "comment": "La page 2 manque."})
    (row,) = ready(session, instance.id)
    assert (row.spec_id, row.lane) == ("upload_signed_contract", "referent")
    waiting = runtime.ready_task(row.id, principal_of(session, "referent.rennes"))
    view = build_task_view(session, row, waiting.task, waiting.bundle)
    assert "Le gestionnaire demande une nouvelle copie signée : La page 2 manque." in view.instructions
    assert "signed_contract" not in view.values, "a new copy is asked: the form starts empty"
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "referent.rennes", "upload_signed_contract",
           sample("upload_signed_contract", signed_contract=waiting.task.data["signature"]["signed_contract"]))
    assert "déposez un autre fichier" in invalid.value.errors["signed_contract"][0]
    do(runtime, session, instance.id, "referent.rennes", "upload_signed_contract", sample("upload_signed_contract"))
    signed = session.scalars(select(Document).where(Document.instance_id == instance.id,
                                                    Document.kind == "signed_contract")).all()
    assert sorted(d.version for d in signed) == [1, 2]
    assert len(contracts(session, instance.id)) == 1, "asking a new signed copy does not redraw the contract"


def test_confirmation_moves_the_volunteer_into_follow_up(runtime, session):
    instance = with_volunteer_file(runtime, session)
    do(runtime, session, instance.id, "gestionnaire.udogec35", "draw_up_contract", sample("draw_up_contract"))
    do(runtime, session, instance.id, "referent.rennes", "upload_signed_contract", sample("upload_signed_contract"))
    (confirm,) = ready(session, instance.id)
    assert (confirm.spec_id, confirm.lane, confirm.structure_code) == ("confirm_contract", "gestionnaire", "UDOGEC-35")
    do(runtime, session, instance.id, "gestionnaire.udogec35", "confirm_contract", sample("confirm_contract"))
    session.refresh(instance)
    assert instance.status == "running"
    assert not {row.spec_id for row in ready(session, instance.id)} & CONTRACT_TASKS
    assert active_after_contract(runtime, instance), "the follow-up part is under way"


def test_until_confirmed_the_volunteer_is_not_in_follow_up(runtime, session):
    instance = with_volunteer_file(runtime, session)
    do(runtime, session, instance.id, "gestionnaire.udogec35", "draw_up_contract", sample("draw_up_contract"))
    do(runtime, session, instance.id, "referent.rennes", "upload_signed_contract", sample("upload_signed_contract"))
    assert active_after_contract(runtime, instance) == []


def test_only_the_reviewing_union_handles_the_contract(runtime, session):
    from engine.access import Forbidden

    instance = with_volunteer_file(runtime, session)
    (row,) = ready(session, instance.id, "draw_up_contract")
    for outsider in ("gestionnaire.udogec29", "referent.rennes", "tuteur.rennes", "pilote"):
        with pytest.raises(Forbidden):
            runtime.complete(row.id, principal_of(session, outsider), sample("draw_up_contract"))
