"""Nothing typed is lost: drafts per task and person, kept on « Enregistrer le brouillon », « Revenir plus tard »
and every refused submission, restored on reopening, gone once the task is done or given to someone else."""
from __future__ import annotations

import base64
import html
import io

from sqlalchemy import func, select

from engine.errors import FormInvalid
from engine.models import Document, TaskDraft
from engine.ops.operations import InstanceOperations

from conftest import principal_of
from test_processes import accepted_project, do, ready, sample, start_project

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def page_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def drafts_of(session, task_id: str) -> list[TaskDraft]:
    session.expire_all()
    return list(session.scalars(select(TaskDraft).where(TaskDraft.task_id == task_id)))


def test_leaving_for_later_keeps_the_text_and_reopening_shows_it(browser, session, runtime):
    instance = start_project(runtime, session)
    (row,) = ready(session, instance.id, "design_project")
    browser.login("referent.rennes")
    left = browser.post_form(f"/taches/{row.id}", {"action": "plus-tard", "title": "Aide aux devoirs du soir",
                                                    "description": "Une première idée, à reprendre demain."})
    assert left.status_code == 302 and left.headers["Location"].endswith("/")
    assert "gardée en brouillon" in page_of(browser.client.get("/"))
    reopened = page_of(browser.client.get(f"/taches/{row.id}"))
    assert 'value="Aide aux devoirs du soir"' in reopened
    assert "Une première idée, à reprendre demain." in reopened
    assert "Brouillon enregistré le" in reopened
    (draft,) = drafts_of(session, row.id)
    assert draft.person_id == principal_of(session, "referent.rennes").person_id
    assert draft.data == {"title": "Aide aux devoirs du soir", "description": "Une première idée, à reprendre demain.",
                          "open_to_minors": False, "reduced_mobility_access": False}


def test_saving_a_draft_stays_on_the_form_and_checks_nothing(browser, session, runtime):
    instance = start_project(runtime, session)
    (row,) = ready(session, instance.id, "design_project")
    browser.login("referent.rennes")
    saved = browser.post_form(f"/taches/{row.id}", {"action": "brouillon", "places_requested": "beaucoup"})
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"/taches/{row.id}")
    page = page_of(browser.client.get(f"/taches/{row.id}"))
    assert "Brouillon enregistré." in page and 'value="beaucoup"' in page
    assert "erreur" not in page.lower().split("brouillon enregistré.")[0][-200:]
    assert ready(session, instance.id, "design_project"), "a draft completes nothing"


def test_a_refused_submission_is_kept_as_a_draft(browser, session, runtime):
    instance = start_project(runtime, session)
    (row,) = ready(session, instance.id, "design_project")
    browser.login("referent.rennes")
    refused = browser.post_form(f"/taches/{row.id}", {"title": "Projet en cours d'écriture", "weekly_hours": "12"})
    assert refused.status_code == 422
    assert "gardée en brouillon" in page_of(refused)
    page = page_of(browser.client.get(f"/taches/{row.id}"))
    assert 'value="Projet en cours d\'écriture"' in page and "Brouillon enregistré le" in page


def test_the_engine_keeps_the_draft_of_a_refused_completion_and_drops_it_once_done(session, runtime):
    instance = start_project(runtime, session)
    (row,) = ready(session, instance.id, "design_project")
    referent = principal_of(session, "referent.rennes")
    try:
        runtime.complete(row.id, referent, {"title": "Brouillon"})
    except FormInvalid:
        pass
    else:
        raise AssertionError("an incomplete project cannot be submitted")
    assert [draft.data for draft in drafts_of(session, row.id)] == [{"title": "Brouillon"}]
    runtime.complete(row.id, referent, sample("design_project"))
    assert drafts_of(session, row.id) == []


def test_a_reassigned_task_loses_the_drafts_of_others(session, runtime, tmp_path):
    instance = start_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    (row,) = ready(session, instance.id, "review_project")
    reviewer = principal_of(session, "gestionnaire.udogec35")
    runtime.save_draft(runtime.ready_task(row.id, reviewer), reviewer, {"comment": "À reprendre"})
    assert len(drafts_of(session, row.id)) == 1
    operations = InstanceOperations(session, runtime.settings)
    operations.reassign(row.id, principal_of(session, "pilote"), principal_of(session, "gestionnaire.urogec").person_id)
    assert drafts_of(session, row.id) == []


def test_a_draft_keeps_its_uploaded_file(browser, session, runtime):
    instance = accepted_project(runtime, session)
    for spec_id in ("select_volunteer", "confirm_selection", "volunteer_file", "draw_up_contract"):
        login = {"select_volunteer": "referent.rennes", "confirm_selection": "tuteur.rennes",
                 "volunteer_file": "referent.rennes", "draw_up_contract": "gestionnaire.udogec35"}[spec_id]
        do(runtime, session, instance.id, login, spec_id, sample(spec_id))
    (row,) = ready(session, instance.id, "upload_signed_contract")
    browser.login("referent.rennes")
    token_page = browser.client.get(f"/taches/{row.id}")
    token = page_of(token_page).split('name="csrf_token" value="')[1].split('"')[0]
    saved = browser.client.post(f"/taches/{row.id}", data={
        "csrf_token": token, "action": "plus-tard", "comment": "Signé par la volontaire et ses parents.",
        "signed_contract": (io.BytesIO(PDF), "contrat-signe.pdf")}, content_type="multipart/form-data")
    assert saved.status_code == 302
    (draft,) = drafts_of(session, row.id)
    document = session.get(Document, draft.data["signed_contract"]["document_id"])
    assert document is not None and document.instance_id == instance.id and document.filename == "contrat-signe.pdf"
    page = page_of(browser.client.get(f"/taches/{row.id}"))
    assert "Fichier joint" in page and "contrat-signe.pdf" in page
    assert f'name="signed_contract" value="{document.id}"' in page


def test_the_api_saves_and_reads_a_draft_per_person(api, session, runtime):
    instance = start_project(runtime, session)
    (row,) = ready(session, instance.id, "design_project")
    assert api.get(f"/api/v1/tasks/{row.id}/draft", "referent.rennes").status_code == 404
    saved = api.call("PUT", f"/api/v1/tasks/{row.id}/draft", "referent.rennes",
                     json={"title": "Par l'API", "weekly_hours": "vingt", "not_a_field": 1})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.json["data"] == {"title": "Par l'API", "weekly_hours": "vingt"}
    assert saved.json["refused_files"] == []
    read = api.get(f"/api/v1/tasks/{row.id}/draft", "referent.rennes")
    assert read.status_code == 200 and read.json["data"]["title"] == "Par l'API"
    detail = api.get(f"/api/v1/tasks/{row.id}", "referent.rennes").json
    assert detail["data"]["title"] == "Par l'API" and detail["draft"]["saved_at"] == read.json["saved_at"]
    # The gestionnaire of the territory sees the task, not the référent's draft.
    assert api.get(f"/api/v1/tasks/{row.id}/draft", "gestionnaire.udogec35").status_code in (403, 404)
    assert api.call("PUT", f"/api/v1/tasks/{row.id}/draft", "referent.rennes", data="[]",
                    content_type="application/json").status_code == 400


def test_the_api_keeps_a_file_sent_with_a_draft(api, session, runtime):
    instance = accepted_project(runtime, session)
    for spec_id, login in (("select_volunteer", "referent.rennes"), ("confirm_selection", "tuteur.rennes"),
                           ("volunteer_file", "referent.rennes"), ("draw_up_contract", "gestionnaire.udogec35")):
        do(runtime, session, instance.id, login, spec_id, sample(spec_id))
    (row,) = ready(session, instance.id, "upload_signed_contract")
    before = session.scalar(select(func.count(Document.id)))
    data_url = "data:application/pdf;name=copie.pdf;base64," + base64.b64encode(PDF).decode()
    saved = api.call("PUT", f"/api/v1/tasks/{row.id}/draft", "referent.rennes", json={"signed_contract": data_url})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.json["data"]["signed_contract"]["filename"] == "copie.pdf"
    assert session.scalar(select(func.count(Document.id))) == before + 1
    refused = api.call("PUT", f"/api/v1/tasks/{row.id}/draft", "referent.rennes", json={"signed_contract": "texte"})
    assert refused.status_code == 200 and refused.json["refused_files"][0]["field"] == "signed_contract"
    assert "signed_contract" not in refused.json["data"]
