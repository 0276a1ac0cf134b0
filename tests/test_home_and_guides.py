"""Each role's home page says what to do next; irreversible choices are confirmed; the guides and their
screenshots exist and are linked; the main pages fit a 360 px phone (Chromium)."""
from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.forms import Form
from engine.models import ProcessInstance, Structure
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings
from handlers.formats import date_fr
from webapp.helpdesk import GUIDES, SCREENSHOTS_DIR

from conftest import ROOT, SAMPLES, principal_of
from follow_up_support import to_follow_up
from live_server import served_in_thread
from monitoring_support import NOW, ready, school, seed

CAPTURE = re.compile(r'(?:src|srcset)="/aide/captures/([^"]+)"')


def text_of(response) -> str:
    """A page's HTML with entities decoded and spaces made plain."""
    return html.unescape(response.get_data(as_text=True)).replace("\u202f", " ")


def words_of(response) -> str:
    """What a reader sees of a page: its text without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text_of(response)).split()).replace(" .", ".")


@pytest.fixture
def seeded(session, tmp_path):
    """Projects of the monitoring seed, dated up to now: the home page compares due dates with the real clock."""
    return seed(session, tmp_path, shift=datetime.now().replace(microsecond=0) - NOW)


def plan_tutor_training(session, tmp_path, days_ahead: int = 20) -> None:
    """The Udogec 35 plans a training for the tuteurs of its territory."""
    runtime = ProcessRuntime(session, RuntimeSettings(tmp_path / "documents"))
    organiser = principal_of(session, "gestionnaire.udogec35")
    structure = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    instance = runtime.start("training", organiser, structure=structure, campaign="2027-2028")
    task = ready(session, instance.id, "plan_training")[0]
    runtime.complete(task.id, organiser, {
        **SAMPLES["plan_training"], "kind": "tutor_training", "audience": "tutors",
        "title": "Formation des tuteurs d'hiver",
        "session_date": (date.today() + timedelta(days=days_ahead)).isoformat()})


def test_each_role_home_page_says_what_to_do_next(browser, session, seeded, tmp_path):
    plan_tutor_training(session, tmp_path)
    brest_review = ready(session, seeded.instances["brest-b"].id, "review_project")[0]
    rennes_design = ready(session, seeded.instances["rennes"].id, "design_project")[0]

    def home_of(login: str) -> tuple[str, str]:
        browser.login(login)
        page = browser.client.get("/")
        browser.logout()
        return text_of(page), words_of(page)

    page, words = home_of("referent.rennes")
    assert "À faire maintenant" in words and "Concevoir et déposer le projet d'accueil 1 tâche" in words
    assert f"1 en retard : échéance dépassée depuis le {date_fr(rennes_design.due_at)}." in words
    assert 'class="overdue"' in page and 'href="/aide/guides/referent"' in page

    page, words = home_of("referent.pontivy")
    assert "Compléter le dossier de l'établissement — Lycée agricole Saint-Yves" in words
    assert "1 point à corriger avant de déposer le projet d'accueil : SIRET de l'OGEC : non renseigné." in words

    page, words = home_of("tuteur.rennes")
    assert "Formation des tuteurs d'hiver" in words and "Inscrivez-vous : 30 places libres." in words
    assert 'href="/aide/guides/tuteur"' in page

    page, words = home_of("gestionnaire.udogec29")
    assert f'href="/taches/{brest_review.id}"' in page
    assert f"Instruire le projet d'accueil 1 tâche Prochaine échéance le {date_fr(brest_review.due_at)}." in words
    assert "Projets d'accueil en attente d'instruction dans votre territoire 1" in words
    assert "1 à instruire par votre structure" in words and 'href="/aide/guides/gestionnaire"' in page

    # The Urogec's territory holds Brest's project, reviewed by the Udogec: waiting, but not for it.
    page, words = home_of("gestionnaire.urogec")
    assert "Aucun à instruire par votre structure" in words and "Instruire le projet d'accueil" not in words

    page, words = home_of("pilote")
    assert 'href="/suivi/?statut=incident"' in page and "Ouvrir le tableau de suivi" in words
    assert "1 dossier en incident à relancer ; 1 suspendu ; 3 tâches en retard" in words
    assert 'href="/aide/guides/pilote"' in page


def test_a_process_owner_reads_a_quiet_platform_in_words(browser):
    browser.login("pilote")
    words = " ".join(browser.client.get("/").get_data(as_text=True).split())
    assert "Aucun dossier en incident ; aucun suspendu ; aucune tâche en retard ; aucun dossier en cours." in words


def test_school_staff_see_the_trainings_their_volunteers_still_need(browser, runtime, session, tmp_path):
    to_follow_up(runtime, session)
    organiser = principal_of(session, "gestionnaire.udogec35")
    structure = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    planner = ProcessRuntime(session, RuntimeSettings(tmp_path / "documents"))
    training = planner.start("training", organiser, structure=structure, campaign="2027-2028")
    planner.complete(ready(session, training.id, "plan_training")[0].id, organiser, {
        **SAMPLES["plan_training"], "title": "Formation civique de décembre",
        "session_date": (date.today() + timedelta(days=10)).isoformat()})
    browser.login("tuteur.rennes")
    page = browser.client.get("/")
    words = words_of(page)
    assert "Formation civique de décembre" in words and "1 volontaire à inscrire (30 places libres)." in words
    assert ("Formations obligatoires de Léa Martin Pas encore suivies : Formation civique et citoyenne, "
            "PSC (Prévention et secours civiques).") in words


def test_a_refusal_is_confirmed_on_its_own_page_and_can_be_revised(browser, session, seeded):
    instance = seeded.instances["brest-b"]
    task = ready(session, instance.id, "review_project")[0]
    refusal = {"decision": "refuse", "comment": "Mission de substitution à un emploi."}
    browser.login("gestionnaire.udogec29")

    asked = browser.post_form(f"/taches/{task.id}", refusal)
    page = text_of(asked)
    assert asked.status_code == 200 and "Refuser définitivement ce projet d'accueil ?" in page
    assert "Mission de substitution à un emploi." in page and 'value="oui" data-busy-label' in page
    assert "Confirmer le refus" in page
    session.refresh(instance)
    assert instance.status == "running", "nothing is sent before the confirmation"

    back = browser.post_form(f"/taches/{task.id}", {**refusal, "confirmation": "revoir"})
    page = text_of(back)
    assert back.status_code == 200 and "Confirmer le refus" not in page
    assert "Mission de substitution à un emploi.</textarea>" in page and 'value="refuse" checked' in page

    empty = browser.post_form(f"/taches/{task.id}", {"decision": "refuse"})
    assert empty.status_code == 422 and "Confirmer le refus" not in text_of(empty), "errors come first"

    done = browser.post_form(f"/taches/{task.id}", {**refusal, "confirmation": "oui"})
    assert done.status_code == 302
    session.refresh(instance)
    assert instance.status == "refused"


def test_an_acceptance_needs_no_confirmation(browser, session, seeded):
    instance = seeded.instances["brest-b"]
    task = ready(session, instance.id, "review_project")[0]
    browser.login("gestionnaire.udogec29")
    response = browser.post_form(f"/taches/{task.id}", {"decision": "accept", "places_granted": "1"})
    assert response.status_code == 302
    session.refresh(instance)
    assert ready(session, instance.id, "publish_offer")


def test_every_guide_is_linked_and_shows_screenshots_that_exist(browser):
    browser.login("referent.rennes")
    help_page = text_of(browser.client.get("/aide/"))
    shown = set()
    for role, guide in GUIDES.items():
        assert f'href="/aide/guides/{role}"' in help_page, role
        page = browser.client.get(f"/aide/guides/{role}")
        assert page.status_code == 200 and guide.title in text_of(page)
        captures = CAPTURE.findall(page.get_data(as_text=True))
        assert captures, f"le guide {role} ne montre aucune capture"
        shown.update(captures)
    for name in sorted(shown):
        path = SCREENSHOTS_DIR / name
        assert path.is_file(), f"capture manquante : docs/screenshots/{name} (make screenshots)"
        assert path.stat().st_size < 300 * 1024, name
        served = browser.client.get(f"/aide/captures/{name}")
        assert served.status_code == 200 and served.data.startswith(b"\x89PNG") and served.mimetype == "image/png"
        served.close()
    assert SCREENSHOTS_DIR == ROOT / "docs" / "screenshots"
    for wrong in ("/aide/guides/inconnu", "/aide/captures/absente.png", "/aide/captures/..%2Fsecret.png",
                  "/aide/captures/README.md"):
        assert browser.client.get(wrong).status_code == 404, wrong


@pytest.fixture
def live(app):
    """The app served on a free loopback port by a thread."""
    with served_in_thread(app) as url:
        yield url


OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_main_pages_fit_a_phone_and_long_submissions_show_progress(live, session, seeded, chromium):
    rennes = seeded.instances["rennes"]
    design = ready(session, rennes.id, "design_project")[0]
    brest_review = ready(session, seeded.instances["brest-b"].id, "review_project")[0]
    pages = {"referent.rennes": ["/", f"/taches/{design.id}", f"/etablissements/{school(session, 'rennes').id}",
                                 f"/dossiers/{rennes.id}", "/formations/", "/aide/", "/aide/guides/referent"],
             "gestionnaire.udogec29": ["/", f"/taches/{brest_review.id}", "/aide/guides/gestionnaire"]}
    for login, paths in pages.items():
        page = chromium.new_context(viewport={"width": 360, "height": 740}).new_page()
        page.route("https://**/*", lambda route: route.abort())
        page.goto(f"{live}/connexion")
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", "demo-campagne")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live}/")
        for path in paths:
            page.goto(live + path)
            assert page.evaluate(OVERFLOW) <= 0, f"{path} défile horizontalement à 360 px ({login})"
        if login == "gestionnaire.udogec29":
            page.goto(f"{live}/taches/{brest_review.id}")
            page.check("input[name=decision][value=refuse]")
            page.fill("#champ-comment", "Mission de substitution à un emploi.")
            page.click("button[data-submit-button]")
            page.wait_for_selector("text=Refuser définitivement ce projet d'accueil ?")
            assert page.evaluate(OVERFLOW) <= 0, "la page de confirmation défile horizontalement"
        else:
            # A submission in progress: the button says so and the form is busy (navigation held here).
            page.goto(f"{live}/taches/{design.id}")
            page.evaluate("""() => document.querySelector('form[data-busy-form]')
                .addEventListener('submit', event => event.preventDefault())""")
            page.click("button[data-submit-button]")
            page.wait_for_selector("form[data-busy-form][aria-busy=true]")
            button = page.locator("button[data-submit-button]")
            assert button.inner_text() == "Envoi en cours…"
            assert button.get_attribute("aria-disabled") == "true"
            assert page.locator(".busy-status").inner_text() == "Envoi en cours…"
        page.context.close()
    session.expire_all()
    assert session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == brest_review.instance_id)) \
        == "running", "the confirmation page alone refuses nothing"


def test_the_contract_form_says_the_contract_is_being_generated():
    def form(name):
        return Form(schema=json.loads((ROOT / "forms" / f"{name}.schema.json").read_text(encoding="utf-8")),
                    ui=json.loads((ROOT / "forms" / f"{name}.uischema.json").read_text(encoding="utf-8")))

    assert form("draw_up_contract").busy_label == "Génération du contrat en cours…"
    assert form("publish_offer").busy_label == "Envoi en cours…"
    confirm = form("confirm_contract")
    assert confirm.confirmation_for({"decision": "confirm"}).button == "Confirmer le contrat"
    assert confirm.confirmation_for({"decision": "resend", "comment": "Illisible."}) is None
