"""Decide with everything in view: the context analysts declare above a task's form (`ui:context`), the
instructions in Markdown, one round of errors, decisions that start empty and buttons that name them."""
from __future__ import annotations

import html
import json
import re
from datetime import date, datetime, timedelta

from engine.errors import FormInvalid
from engine.forms import Form
from engine.runtime.deployment import read_definition_files
from engine.validation import validate_files
from engine.views.instructions import markdown_html, render_instructions

from conftest import ROOT, principal_of
from follow_up_support import fire_due_timers, to_follow_up
from test_processes import accepted_project, do, ready, sample, start_project


def words(response) -> str:
    """What a reader sees of a page: its text without tags, spaces collapsed."""
    text = html.unescape(response.get_data(as_text=True)).replace("\u202f", " ")
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def submitted_project(runtime, session):
    instance = start_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    return instance


def test_the_review_shows_the_whole_project_with_the_quota_and_the_school_file(browser, session, runtime):
    instance = submitted_project(runtime, session)
    (row,) = ready(session, instance.id, "review_project")
    browser.login("gestionnaire.udogec35")
    page = words(browser.client.get(f"/taches/{row.id}"))
    project = sample("design_project")
    assert "Le projet d'accueil déposé" in page
    for text in (project["title"], project["description"], project["activities"], "13 septembre 2027",
                 "Éducation pour tous"):
        assert text in page, text
    assert "Quota 1 volontaire au plus" in page
    assert "Dossier de l'établissement complet, vérifié le" in page
    assert "Effectif 240 élèves" in page
    assert "Décision précédente" not in page, "a first review has no earlier round"


def test_a_second_review_starts_empty_and_shows_the_first_one(browser, session, runtime):
    instance = submitted_project(runtime, session)
    do(runtime, session, instance.id, "gestionnaire.udogec35", "review_project",
       {"decision": "changes", "comment": "Précisez les horaires du soir."})
    do(runtime, session, instance.id, "referent.rennes", "design_project",
       sample("design_project", activities="Aide aux devoirs de 17 h à 19 h."))
    (row,) = ready(session, instance.id, "review_project")
    browser.login("gestionnaire.udogec35")
    response = browser.client.get(f"/taches/{row.id}")
    page = html.unescape(response.get_data(as_text=True))
    assert "Précisez les horaires du soir.</textarea>" not in page, "the new round's comment starts empty"
    seen = words(response)
    assert "Décision précédente" in seen and "Précisez les horaires du soir." in seen and "par Nathalie Rolland" in seen
    assert "Aide aux devoirs de 17 h à 19 h." in seen, "the project as resubmitted"


def test_a_project_sent_back_keeps_its_answers_and_shows_the_request(browser, session, runtime):
    instance = submitted_project(runtime, session)
    do(runtime, session, instance.id, "gestionnaire.udogec35", "review_project",
       {"decision": "changes", "comment": "Précisez les horaires du soir."})
    (row,) = ready(session, instance.id, "design_project")
    browser.login("referent.rennes")
    response = browser.client.get(f"/taches/{row.id}")
    assert f'value="{sample("design_project")["title"]}"' in html.unescape(response.get_data(as_text=True))
    assert "Demande du gestionnaire" in words(response)


def test_the_tutor_sees_the_candidate_and_the_reasons_and_the_button_names_the_choice(browser, session, runtime):
    instance = accepted_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "select_volunteer", sample("select_volunteer"))
    (row,) = ready(session, instance.id, "confirm_selection")
    browser.login("tuteur.rennes")
    response = browser.client.get(f"/taches/{row.id}")
    seen = words(response)
    selection = sample("select_volunteer")
    for text in ("Le candidat proposé par le référent", selection["candidate_first_name"],
                 selection["candidate_email"], selection["reasons"], "10 juin 2026"):
        assert text in seen, text
    page = html.unescape(response.get_data(as_text=True))
    assert 'data-submit-field="agree"' in page and "Refuser le candidat" in page
    assert re.search(r"data-submit-button>Valider et transmettre</button>", page)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    refused = browser.client.post(f"/taches/{row.id}", data={"csrf_token": token, "agree": "false"})
    assert refused.status_code == 422
    assert "data-submit-button>Refuser le candidat</button>" in html.unescape(refused.get_data(as_text=True))


def test_the_contract_confirmation_shows_the_signed_copy(browser, session, runtime):
    instance = accepted_project(runtime, session)
    for spec_id, login in (("select_volunteer", "referent.rennes"), ("confirm_selection", "tuteur.rennes"),
                           ("volunteer_file", "referent.rennes"), ("draw_up_contract", "gestionnaire.udogec35"),
                           ("upload_signed_contract", "referent.rennes")):
        do(runtime, session, instance.id, login, spec_id, sample(spec_id))
    (row,) = ready(session, instance.id, "confirm_contract")
    browser.login("gestionnaire.udogec35")
    page = html.unescape(browser.client.get(f"/taches/{row.id}").get_data(as_text=True))
    assert "Le contrat signé déposé par le référent" in page
    link = re.search(r'<dt>Contrat signé</dt><dd><a href="(/documents/\d+)">', page)
    assert link, "the signed copy is a link to the document"
    download = browser.client.get(link.group(1))
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    download.close()


def test_each_follow_up_shows_the_previous_one(session, runtime, api):
    followed = to_follow_up(runtime, session)
    fire_due_timers(runtime, session, datetime(2027, 11, 1, 10, 0))
    (first,) = ready(session, followed.id, "record_follow_up")
    assert api.get(f"/api/v1/tasks/{first.id}", "tuteur.rennes").json["context"] == []
    runtime.complete(first.id, principal_of(session, "tuteur.rennes"),
                     sample("record_follow_up", activities="Tutorat en mathématiques."))
    fire_due_timers(runtime, session, datetime(2027, 12, 1, 10, 0))
    (second,) = ready(session, followed.id, "record_follow_up")
    (section,) = api.get(f"/api/v1/tasks/{second.id}", "tuteur.rennes").json["context"]
    assert section["title"] == "Le suivi précédent" and "par " in section["note"]
    assert {"label": "Activités du mois", "text": "Tutorat en mathématiques.", "document_id": None} in section["lines"]


def test_the_api_task_detail_returns_the_context_as_data(api, session, runtime):
    instance = submitted_project(runtime, session)
    (row,) = ready(session, instance.id, "review_project")
    detail = api.get(f"/api/v1/tasks/{row.id}", "gestionnaire.udogec35").json
    titles = [section["title"] for section in detail["context"]]
    assert titles == ["Le projet d'accueil déposé", "L'établissement et son quota"]
    lines = {line["label"]: line["text"] for line in detail["context"][0]["lines"]}
    assert lines["Intitulé de la mission"] == sample("design_project")["title"]
    assert lines["Date de début souhaitée"] == "13 septembre 2027"
    assert "**acceptez-le**" in detail["instructions"], "instructions are Markdown text"
    assert detail["draft"] is None


def test_errors_come_in_one_round_format_and_rules_together(session, runtime):
    instance = submitted_project(runtime, session)
    (row,) = ready(session, instance.id, "review_project")
    try:
        runtime.complete(row.id, principal_of(session, "gestionnaire.udogec35"),
                         {"decision": "accept", "places_granted": 3, "comment": "x" * 4001})
    except FormInvalid as invalid:
        errors = invalid.errors
    else:
        raise AssertionError("three places for a quota of one, and too long a comment")
    assert set(errors) == {"places_granted", "comment"}
    assert "Le quota de cet établissement est de 1 volontaire" in errors["places_granted"][0]
    assert errors["comment"] == ["Saisissez au plus 4000 caractères."]


def test_emails_and_fact_dates_are_checked_on_the_server(session, runtime):
    instance = accepted_project(runtime, session)
    (row,) = ready(session, instance.id, "select_volunteer")
    tomorrow = (runtime.clock().date() + timedelta(days=1)).isoformat()
    try:
        runtime.complete(row.id, principal_of(session, "referent.rennes"),
                         sample("select_volunteer", candidate_email="nom@", interview_date=tomorrow))
    except FormInvalid as invalid:
        errors = invalid.errors
    else:
        raise AssertionError("an address without domain and an interview not yet held")
    assert set(errors) == {"candidate_email", "interview_date"}
    assert "postérieure à aujourd'hui" in errors["interview_date"][0]


def test_fact_date_fields_offer_no_date_after_today(browser, session, runtime):
    instance = accepted_project(runtime, session)
    (row,) = ready(session, instance.id, "select_volunteer")
    browser.login("referent.rennes")
    page = browser.client.get(f"/taches/{row.id}").get_data(as_text=True)
    assert 'id="champ-interview_date" name="interview_date"' in page
    field = re.search(r'<input id="champ-interview_date"[^>]*>', page).group(0)
    assert f'max="{date.today().isoformat()}"' in field


def test_instructions_are_markdown_rendered_safely():
    text = render_instructions("**{{ name }}** : [site](https://www.service-civique.gouv.fr)\n- un\n- deux",
                               {"name": "<script>alert(1)</script>"})
    rendered = str(markdown_html(text))
    assert "<strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong>" in rendered
    assert '<a href="https://www.service-civique.gouv.fr">site</a>' in rendered
    assert "<li>un</li>" in rendered and "<script>" not in rendered
    assert "href=\"javascript:" not in str(markdown_html("[x](javascript:alert(1))")), "not a link"
    assert render_instructions("{{ a.b.c() }}", {}) == "{{ a.b.c() }}", "a broken template shows as written"


def test_the_validator_checks_what_a_context_names():
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    ui = Form({"type": "object"}).ui
    ui["ui:context"] = [{"title": "Projet", "task": "design_projet"},
                        {"title": "Projet", "task": "design_project", "fields": ["titre"]},
                        {"title": "Lignes", "facts": [{"label": "Quota", "value": "{{ quota "}]},
                        {"title": "Les deux", "task": "design_project", "facts": []}]
    files["forms/review_project.uischema.json"] = json.dumps(
        {**json.loads(files["forms/review_project.uischema.json"]), **ui,
         "decision": {"ui:submitLabel": {"accepter": "Accepter"}}})
    messages = [problem.message for problem in validate_files(files).problems if problem.rule == "form.hints"]
    said = " ".join(messages)
    assert "« design_projet », qui n'est pas une tâche utilisateur" in said
    assert "n'a pas de champ « titre »" in said
    assert "n'est pas un gabarit valide" in said
    assert "soit une tâche (« task »), soit des lignes calculées" in said
    assert "« accepter », qui n'est pas une valeur du champ" in said
    assert len(messages) == 5
