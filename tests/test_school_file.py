"""The school file: completeness, submission refused while incomplete, roles from the directory, whom to ask."""
from __future__ import annotations

import copy
import html
import re
from datetime import datetime

import pytest
from sqlalchemy import select

from engine.directory.accounts import hash_password
from engine.directory.importing import import_directory
from engine.directory.lookups import SqlDirectory, tutor_statuses
from engine.models import Establishment, Person, ProcessInstance, TaskRow
from engine.runtime.runtime import FormInvalid
from handlers.context import HandlerContext
from handlers.school_file import pupil_count_for, school_file_problems
from handlers.volunteer import school_tutors

from conftest import SAMPLES, principal_of

RENNES, PONTIVY = "0350781J", "0561433D"
YEAR = "2027-2028"
SUPPORT = "support@isidoor.org"
COMPLETE = {
    "uai": "0350781J", "ogec_name": "OGEC Saint-Joseph de Rennes", "address": "12 rue de Fougères",
    "postal_code": "35700", "city": "Rennes", "department": "35", "siret": "77751234500011",
    "phone": "+33299381200", "pupil_count": 240, "pupil_count_year": YEAR,
}


def text(response) -> str:
    """A page's text as a reader sees it: no tags, entities decoded, spaces and line breaks as single spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", response.get_data(as_text=True))).split())


def school(session, uai: str) -> Establishment:
    """A demo establishment."""
    return session.scalar(select(Establishment).where(Establishment.uai == uai))


def person(session, login: str) -> Person:
    """A person by login."""
    return session.scalar(select(Person).where(Person.login == login))


def test_a_file_with_every_field_present_and_valid_is_complete():
    assert school_file_problems(COMPLETE, YEAR) == []


OGEC_FIX = "à corriger dans le dossier de l'OGEC, par le support Isidoor (support@isidoor.org) ou l'Udogec du territoire"
SCHOOL_FIX = ("à corriger dans Isidoor par le chef d'établissement, avec l'aide du support Isidoor "
              "(support@isidoor.org) ou de l'Udogec du territoire")


@pytest.mark.parametrize("field, value, label, fix", [
    ("ogec_name", None, "Nom exact de l'OGEC : non renseigné", OGEC_FIX),
    ("ogec_name", "  ", "Nom exact de l'OGEC : non renseigné", OGEC_FIX),
    ("address", None, "Adresse exacte de l'OGEC : adresse, code postal ou commune manquant", OGEC_FIX),
    ("postal_code", None, "Adresse exacte de l'OGEC : adresse, code postal ou commune manquant", OGEC_FIX),
    ("city", "", "Adresse exacte de l'OGEC : adresse, code postal ou commune manquant", OGEC_FIX),
    ("siret", None, "SIRET de l'OGEC : non renseigné", OGEC_FIX),
    ("phone", None, "Téléphone de l'OGEC : non renseigné", OGEC_FIX),
    ("uai", None, "Code RNE/UAI : code UAI absent", SCHOOL_FIX),
    ("pupil_count", None, "Effectif d'élèves à la rentrée : non renseigné", SCHOOL_FIX),
])
def test_each_missing_field_is_listed_with_who_fixes_it(field, value, label, fix):
    problems = school_file_problems({**COMPLETE, field: value}, YEAR)

    assert [(p["label"], p["state"]) for p in problems] == [(label, "missing")]
    assert problems[0]["fix"] == fix
    assert problems[0]["ogec"] == (fix == OGEC_FIX)


@pytest.mark.parametrize("field, value, label", [
    ("siret", "77751234500012", "SIRET de l'OGEC : la clé de contrôle du SIRET est fausse (« 77751234500012 »)"),
    ("siret", "7775123450001", "SIRET de l'OGEC : le SIRET doit compter 14 chiffres (« 7775123450001 »)"),
    ("phone", "12 34", "Téléphone de l'OGEC : numéro non valide (« 12 34 »)"),
    ("uai", "0350781K", "Code RNE/UAI : la lettre de contrôle du code UAI est fausse"),
    # A valid code of another department than the school's.
    ("uai", "0291652N", "Code RNE/UAI : à corriger, le code UAI commence par 029, celui du département 29, et non "
                        "du département 35 de l'établissement"),
    ("postal_code", "20000", "Adresse exacte de l'OGEC : un code postal commençant par 20 est celui d'une commune "
                             "de Corse (« 20000 »)"),
    ("pupil_count", 0, "Effectif d'élèves à la rentrée : l'effectif doit être positif"),
])
def test_an_invalid_value_is_kept_and_flagged_as_to_be_corrected(field, value, label):
    problems = school_file_problems({**COMPLETE, field: value}, YEAR)

    assert [(p["label"], p["state"]) for p in problems] == [(label, "invalid")]


def test_a_count_of_another_year_is_to_be_updated_unless_that_year_is_known():
    outdated = {**COMPLETE, "pupil_count_year": "2026-2027"}
    assert [(p["field"], p["state"]) for p in school_file_problems(outdated, YEAR)] == [("pupil_count", "outdated")]
    assert school_file_problems({**outdated, "pupil_counts": {YEAR: 250}}, YEAR) == []
    # By default (a campaign requiring no year, or outside a campaign) the latest known count will do.
    assert school_file_problems(outdated) == []
    assert pupil_count_for({**outdated, "pupil_counts": {"2025-2026": 230}}, None) == (240, "2026-2027")


def test_the_referent_home_page_says_what_is_missing_and_who_can_fix_it(browser):
    browser.login("referent.pontivy")

    home = text(browser.client.get("/"))

    assert "Dossier de l'établissement incomplet." in home
    assert "SIRET de l'OGEC : non renseigné" in home
    # The Morbihan's Udogec is not dedicated to Service Civique: the Urogec is the one to ask.
    assert (f"Qui peut corriger le dossier de l'OGEC : le support Isidoor ({SUPPORT}) ou votre structure, Urogec "
            "Bretagne (service-civique@urogec-bretagne.example.org, 02 99 00 00 00).") in home
    browser.logout()
    browser.login("referent.rennes")
    assert "Dossier de l'établissement complet." in text(browser.client.get("/"))


def test_submitting_with_an_incomplete_file_is_refused_with_the_list_and_nothing_typed_is_lost(browser, session):
    pontivy = school(session, PONTIVY)
    browser.login("referent.pontivy")
    task_path = browser.post_form("/dossiers/demarrer/hosting_project", {"establishment_id": pontivy.id},
                                  page="/").headers["Location"]
    typed = {name: str(value).lower() if isinstance(value, bool) else str(value)
             for name, value in SAMPLES["design_project"].items()}
    typed["title"] = "Potager pédagogique du lycée"

    refused = browser.post_form(task_path, typed)

    page = text(refused)
    assert refused.status_code == 422
    assert ("Le dossier de l'établissement est incomplet (SIRET de l'OGEC : non renseigné : à corriger dans le "
            "dossier de l'OGEC, par le support Isidoor") in page
    assert "votre saisie est conservée" in page
    assert 'value="Potager pédagogique du lycée"' in html.unescape(refused.get_data(as_text=True))

    # Isidoor corrects the file; the next directory sync brings the SIRET, and the same submission passes.
    import_directory(session, {"establishments": [{
        "uai": PONTIVY, "name": pontivy.name, "ogec_name": pontivy.ogec_name, "address": pontivy.ogec.address,
        "postal_code": pontivy.postal_code, "city": pontivy.city, "department": "56", "siret": "44306184100047",
        "phone": pontivy.ogec.phone, "network": "CNEAP", "pupil_count": 180, "pupil_count_year": YEAR}]},
        source="correction.json")
    accepted = browser.post_form(task_path, typed)
    assert accepted.status_code == 302
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.establishment_id == pontivy.id))
    session.expire_all()
    assert session.scalar(select(TaskRow.spec_id).where(TaskRow.instance_id == instance.id,
                                                        TaskRow.state == "ready")) == "review_project"


def test_the_head_of_school_is_referent_by_right(session, browser):
    import_directory(session, {
        "establishments": [{"uai": "0440123V", "name": "Collège Saint-Félix", "department": "44", "network": "SGEC"}],
        "people": [{"isidoor_id": "claire.guerin@isidoor.example.org", "gabriel_id": "cguerin",
                    "first_name": "Claire", "last_name": "Guérin", "email": "claire.guerin@example.org",
                    "phone": "0611223344"}],
        "roles": [{"person": "claire.guerin@isidoor.example.org", "role": "referent", "establishment": "0440123V",
                   "head_of_school": True}],
    }, source="chef.json")
    claire = person(session, "claire.guerin@isidoor.example.org")
    felix = school(session, "0440123V")

    assert felix.id in principal_of(session, claire.login).establishments_for("referent")
    browser.login("referent.rennes")
    page = text(browser.client.get(f"/etablissements/{school(session, RENNES).id}"))
    assert "Anne Le Goff" in page and "chef d'établissement" in page


def test_a_referent_names_another_referent(browser, session):
    rennes = school(session, RENNES)
    tutor = person(session, "tuteur.rennes")
    browser.login("tuteur.rennes")
    assert browser.client.post(f"/etablissements/{rennes.id}/referents",
                               data={"person_id": tutor.id}).status_code in (400, 403)
    assert "Nommer un autre référent" not in text(browser.client.get(f"/etablissements/{rennes.id}"))
    browser.logout()

    browser.login("referent.rennes")
    path = f"/etablissements/{rennes.id}"
    assert "Nommer un autre référent" in text(browser.client.get(path))
    browser.post_form(f"{path}/referents", {"person_id": tutor.id}, page=path)
    page = text(browser.client.get(path))
    assert "Thomas Riou a désormais le rôle de référent de l'établissement." in page
    assert "nommé sur la plateforme" in page
    browser.post_form(f"{path}/referents", {"person_id": tutor.id}, page=path)
    assert "Thomas Riou a déjà le rôle de référent de l'établissement." in text(browser.client.get(path))
    stranger = person(session, "referent.brest")
    browser.post_form(f"{path}/referents", {"person_id": stranger.id}, page=path)
    assert "Cette personne n'appartient pas à l'établissement dans l'annuaire." in text(browser.client.get(path))
    browser.logout()

    session.expire_all()
    assert rennes.id in principal_of(session, "tuteur.rennes").establishments_for("referent")
    browser.login("tuteur.rennes")
    assert "Concevoir le projet d'accueil" in text(browser.client.get("/"))


def tutor_choices(session, establishment: Establishment) -> list[str]:
    """The tuteur choices the volunteer file offers (logins)."""
    context = HandlerContext(directory=SqlDirectory(session), contracts=None, documents=None, mailer=None,
                             today=datetime.now().date())
    return [choice["value"] for choice in school_tutors(context, {"establishment_id": establishment.id})]


def test_a_person_without_email_or_phone_logs_in_is_told_what_to_complete_and_is_not_offered(browser, session):
    rennes = school(session, RENNES)
    import_directory(session, {
        "people": [{"isidoor_id": "lea.riou@isidoor.example.org", "first_name": "Léa", "last_name": "Riou"}],
        "roles": [{"person": "lea.riou@isidoor.example.org", "role": "tuteur", "establishment": RENNES}],
    }, source="lea.json")
    lea = person(session, "lea.riou@isidoor.example.org")
    lea.password_hash = hash_password("mot-de-passe-de-lea")
    session.commit()

    assert browser.login(lea.login, "mot-de-passe-de-lea").status_code == 302
    home = text(browser.client.get("/"))
    assert ("Votre profil est incomplet : adresse électronique absente, numéro de téléphone absent. Chaque "
            "utilisateur doit avoir une adresse électronique et un téléphone ; sans eux, personne ne peut vous "
            "choisir comme tuteur.") in home
    assert SUPPORT in home

    import_directory(session, {
        "people": [{"isidoor_id": "lea.riou@isidoor.example.org", "first_name": "Léa", "last_name": "Riou"}],
        "roles": [{"person": "lea.riou@isidoor.example.org", "role": "tuteur", "establishment": RENNES}],
    }, source="lea.json")
    (status,) = [s for s in tutor_statuses(session, rennes.id) if s["login"] == lea.login]
    assert status["reason"] == ("profil incomplet dans Isidoor : adresse électronique absente, numéro de téléphone "
                                "absent")
    assert lea.login not in tutor_choices(session, rennes)
    assert "tuteur.rennes" in tutor_choices(session, rennes)


def test_a_newly_named_tutor_is_offered_only_after_a_first_login_and_the_next_sync(browser, session):
    rennes = school(session, RENNES)
    newcomer = person(session, "julien.lemoine")
    browser.login("referent.rennes")
    page = text(browser.client.get(f"/etablissements/{rennes.id}"))
    assert "Julien Lemoine — cotuteur : aucune connexion à la plateforme pour l'instant" in page
    assert "après sa première connexion à la plateforme puis la synchronisation suivante de l'annuaire" in page
    assert "julien.lemoine" not in tutor_choices(session, rennes)
    browser.logout()

    browser.login("julien.lemoine")
    browser.logout()
    session.expire_all()
    assert newcomer.first_login_at is not None
    (status,) = [s for s in tutor_statuses(session, rennes.id) if s["login"] == "julien.lemoine"]
    assert status["reason"] == "en attente de la prochaine synchronisation de l'annuaire"
    assert "julien.lemoine" not in tutor_choices(session, rennes)

    report, _record = import_directory(session, {
        "people": [{"isidoor_id": newcomer.isidoor_id, "first_name": "Julien", "last_name": "Lemoine",
                    "email": newcomer.email, "phone": newcomer.phone}],
        "roles": [{"person": newcomer.isidoor_id, "role": "cotuteur", "establishment": RENNES}],
    }, source="synchronisation.json")

    (confirmed,) = [e for e in report.entries if e.kind == "role"]
    assert confirmed.messages == ["synchronisé après la première connexion"]
    assert "julien.lemoine" in tutor_choices(session, rennes)
    browser.login("referent.rennes")
    assert "Julien Lemoine — cotuteur : choix possible" in text(browser.client.get(f"/etablissements/{rennes.id}"))


def test_the_help_page_says_whom_to_ask(browser):
    browser.login("referent.rennes")
    page = text(browser.client.get("/aide/"))
    assert f"écrivez au support Isidoor : {SUPPORT}" in page
    assert "Accès, rôles et dossier de l'OGEC" in page
    assert "Udogec d'Ille-et-Vilaine" in page
    assert "Nathalie Rolland, gestionnaire gestionnaire.udogec35@example.org — 02 99 00 11 22" in page
    assert "service-civique@udogec35.example.org — 02 99 00 00 35" in page
    assert "n'apparaît dans les choix qu'une fois son adresse électronique et son téléphone renseignés" in page
    browser.logout()

    # A gestionnaire asks the structure above theirs; a process owner, Fnogec.
    browser.login("gestionnaire.udogec35")
    assert "Urogec Bretagne" in text(browser.client.get("/aide/"))
    browser.logout()
    browser.login("pilote")
    page = text(browser.client.get("/aide/"))
    assert "Fnogec" in page and "Isabelle Fournier" in page


def test_the_volunteer_file_task_explains_why_a_tutor_may_be_missing(app):
    with app.test_request_context():
        template = app.jinja_env.get_template("tasks/panels/volunteer_file.html")
        view = type("View", (), {"row": type("Row", (), {"establishment_id": 7})()})()
        page = html.unescape(template.render(view=view, tutor_choice_rule="RÈGLE"))
    assert "Un tuteur ou un cotuteur manque dans la liste ?" in page
    assert "RÈGLE" in page
    assert 'href="/etablissements/7#titre-tuteurs"' in page


def test_the_engine_hands_back_a_refused_submission_whole(session, runtime):
    pontivy = school(session, PONTIVY)
    instance = runtime.start("hosting_project", principal_of(session, "referent.pontivy"), establishment=pontivy,
                             campaign=YEAR)
    task = session.scalar(select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready"))

    with pytest.raises(FormInvalid) as refused:
        runtime.complete(task.id, principal_of(session, "referent.pontivy"), copy.deepcopy(SAMPLES["design_project"]))
    assert refused.value.data == SAMPLES["design_project"]


def test_the_help_page_names_the_dedicated_structure_not_a_union_without_service_civique(browser):
    browser.login("referent.pontivy")
    page = text(browser.client.get("/aide/"))
    assert "Urogec Bretagne" in page
    assert "Udogec du Morbihan" not in page
    assert ("celui de son OGEC (nom exact, adresse exacte, SIRET, téléphone), écrivez au support Isidoor : "
            f"{SUPPORT}") in page
