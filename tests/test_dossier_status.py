"""Where each dossier stands, in words (engine.views.dossier_status): refused with the reason, sent back with the
request, suspended, in incident, waiting for whom and until when; the same sentence on the dossier list, the home
page and the dossier page, whose plain version school staff read."""
from __future__ import annotations

import html
import re
from datetime import datetime

from sqlalchemy import event, select

from engine.models import Person
from engine.views.dossier_status import dossier_statuses

from conftest import principal_of
from follow_up_support import to_follow_up
from monitoring_support import NOW, sample, seed

FNOGEC_COMMENT = "Précisez le rôle du volontaire pendant les heures de cours."


def words(response) -> str:
    """What a reader sees of a page: its text without tags, spaces collapsed."""
    assert response.status_code == 200, response.status_code
    text = re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True)))
    return " ".join(text.split())


def name_of(session, login: str) -> str:
    """The full name of a demo account."""
    return session.scalar(select(Person).where(Person.login == login)).full_name


def statuses(session, seeded, now: datetime = NOW) -> dict[str, tuple[str, str]]:
    """Kind and sentence of each seeded instance, by its name in the seed."""
    found = dossier_statuses(session, list(seeded.instances.values()), now)
    return {name: (found[instance.id].kind, found[instance.id].sentence) for name, instance in seeded.instances.items()}


def test_each_dossier_says_where_it_stands_and_why(session, tmp_path):
    seeded = seed(session, tmp_path)
    pilote = name_of(session, "pilote")
    found = statuses(session, seeded)
    assert found["rennes-refused"] == (
        "refused", "Refusé par l'Udogec d'Ille-et-Vilaine le 9 mars 2027 : « Projet hors du cadre du Service Civique. »")
    assert found["paris-terminated"] == ("terminated", f"Interrompu le 11 mars 2027 par {pilote} : Établissement fermé.")
    assert found["rennes-suspended"] == (
        "suspended", f"Suspendu depuis le 11 mars 2027 par {pilote} : Changement de chef d'établissement. Ses tâches "
                     "et ses échéances attendent sa reprise.")
    kind, sentence = found["brest-incident"]
    assert kind == "incident" and sentence.startswith("En incident depuis le 9 mars 2027 : un traitement automatique")
    assert found["rennes"] == ("waiting", "En attente du référent pour concevoir et déposer le projet d'accueil, "
                                          "depuis le 1er mars 2027 ; échéance dépassée depuis le 8 mars 2027.")
    assert found["pontivy"] == ("waiting", "En attente du référent pour concevoir et déposer le projet d'accueil, "
                                           "depuis le 10 mars 2027 ; échéance le 17 mars 2027.")
    assert found["brest-b"] == ("waiting", "En attente de l'Udogec du Finistère pour instruire le projet d'accueil, "
                                           "depuis le 8 mars 2027 ; échéance le 22 mars 2027.")


def test_a_project_sent_back_says_what_to_change_until_it_is_submitted_again(session, tmp_path):
    seeded = seed(session, tmp_path)
    seeded.do("brest-b", "gestionnaire.udogec29", "review_project",
              sample("review_project", decision="changes", comment=FNOGEC_COMMENT), datetime(2027, 3, 10, 15, 0))
    assert statuses(session, seeded)["brest-b"] == (
        "changes_requested", f"Modifications demandées par l'Udogec du Finistère le 10 mars 2027 : « {FNOGEC_COMMENT} » "
                             "En attente du référent pour concevoir et déposer le projet d'accueil, depuis le 10 mars "
                             "2027 ; échéance le 17 mars 2027.")
    seeded.do("brest-b", "referent.brest", "design_project", sample("design_project"), datetime(2027, 3, 11, 9, 0))
    assert statuses(session, seeded)["brest-b"] == (
        "waiting", "En attente de l'Udogec du Finistère pour instruire le projet d'accueil, depuis le 11 mars 2027 ; "
                   "échéance le 25 mars 2027.")


def test_a_list_is_read_in_the_same_statements_whatever_its_length(session, tmp_path):
    seeded = seed(session, tmp_path)
    instances = list(seeded.instances.values())
    dossier_statuses(session, instances, NOW)
    seen = []

    def count(*_args):
        seen.append(1)

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", count)
    try:
        dossier_statuses(session, instances[:1], NOW)
        one = len(seen)
        dossier_statuses(session, instances, NOW)
        many = len(seen) - one
    finally:
        event.remove(bind, "before_cursor_execute", count)
    assert len(instances) > 5 and one == many <= 7
    assert dossier_statuses(session, [], NOW) == {}


def test_a_volunteer_place_says_who_is_in_mission_and_what_comes_next(runtime, session):
    followed = to_follow_up(runtime, session)
    status = dossier_statuses(session, [followed], datetime(2027, 10, 1, 9, 0))[followed.id]
    assert status.kind == "waiting"
    assert status.sentence == "En attente : prochain suivi mensuel, le 1er novembre 2027."
    assert [event.label for event in status.waiting][:1] == ["Prochain suivi mensuel"]
    assert len(status.details) == 1 and status.details[0].startswith("Place 1 : Léa ")
    assert ", en mission jusqu'au " in status.details[0] or ", mission du " in status.details[0]


def test_the_list_and_the_school_staffs_dossier_page_say_the_same(browser, session, tmp_path):
    seeded = seed(session, tmp_path)
    refused = seeded.instances["rennes-refused"]
    sentence = "Refusé par l'Udogec d'Ille-et-Vilaine le 9 mars 2027 : « Projet hors du cadre du Service Civique. »"
    browser.login("referent.rennes")
    assert sentence in words(browser.client.get("/dossiers/"))
    page = words(browser.client.get(f"/dossiers/{refused.id}"))
    assert f"Où en est le dossier : {sentence}" in page
    assert "Ce qui a été fait" in page and "Instruire le projet d'accueil — fait par" in page
    # Neither diagrams nor the steps' ids nor the operations: those are for the people who steer dossiers.
    for hidden in ("Diagramme", "check_school_file_task", "Branchement exclusif", "Piloter le dossier",
                   "Qui a la main", "version 1"):
        assert hidden not in page, hidden
    browser.logout()

    browser.login("gestionnaire.udogec35")
    page = words(browser.client.get(f"/dossiers/{refused.id}"))
    assert f"Où en est le dossier : {sentence}" in page
    assert "Diagramme" in page and "Historique" in page


def test_the_school_staff_read_what_comes_next_and_who_does_it(browser, session, tmp_path):
    seeded = seed(session, tmp_path)
    waiting = seeded.instances["brest-b"]
    browser.login("referent.brest")
    page = words(browser.client.get(f"/dossiers/{waiting.id}"))
    assert ("Instruire le projet d'accueil — à faire par l'Udogec du Finistère, depuis le 8 mars 2027 ; échéance le "
            "22 mars 2027.") in page
    # Their own task is a link; the gestionnaire's is not.
    assert 'href="/taches/' not in browser.client.get(f"/dossiers/{waiting.id}").get_data(as_text=True)
    designing = seeded.instances["brest-a"]
    shown = html.unescape(browser.client.get(f"/dossiers/{designing.id}").get_data(as_text=True))
    assert re.search(r'<a href="/taches/[^"]+">Concevoir et déposer le projet d\'accueil</a>', shown)
    assert f"à faire par le référent ({name_of(session, 'referent.brest')})" in words(
        browser.client.get(f"/dossiers/{designing.id}"))


def test_a_home_page_with_nothing_to_do_says_where_each_dossier_stands(browser, session, tmp_path):
    seeded = seed(session, tmp_path)
    browser.login("referent.rennes")
    assert "Vos dossiers avancent chez les autres acteurs" not in words(browser.client.get("/"))
    seeded.clock.moment = datetime(2027, 3, 12, 11, 0)
    seeded.runtime.suspend(seeded.instances["rennes"], principal_of(session, "gestionnaire.udogec35"),
                           "Le chef d'établissement change à la rentrée.")
    sentence = (f"Suspendu depuis le 12 mars 2027 par {name_of(session, 'gestionnaire.udogec35')} : Le chef "
                "d'établissement change à la rentrée. Ses tâches et ses échéances attendent sa reprise.")
    home = words(browser.client.get("/"))
    todo = home[home.index("À faire maintenant"):home.index("Tâches à traiter")]
    assert "Aucune tâche ne vous attend pour l'instant." in todo
    assert ("Vos dossiers avancent chez les autres acteurs. Où en est chacun : Campagne 2027-2028 · en préparation "
            f"Projet d'accueil — Collège Saint-Joseph {sentence}") in todo
    # The school's card says the same.
    assert f"Projet d'accueil 2027-2028 (en préparation) : {sentence}" in home
    assert sentence in words(browser.client.get("/dossiers/"))
