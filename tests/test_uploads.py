"""Attached files: checked by content and size, stored under generated names, kept on errors, served in scope."""
from __future__ import annotations

import base64
import html
import io
import json
import re
from dataclasses import fields
from datetime import datetime

import pytest
from sqlalchemy import select

from engine.models import Document, TaskRow
from engine.runtime.runtime import FormInvalid, ProcessRuntime, RuntimeSettings
from engine.uploads import (
    Upload,
    UploadRefused,
    check_upload,
    max_upload_bytes,
    parse_data_url,
    safe_filename,
    sniff,
)
from handlers.context import HandlerContext
from webapp.config import runtime_settings_of

from conftest import as_form
from test_processes import accepted_project, do, ready, sample

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
# A Windows executable renamed "carte-identite.pdf": its name and declared type lie, its content does not.
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run in DOS mode."


def data_url(content: bytes, name: str = "carte-identite.pdf", kind: str = "application/pdf") -> str:
    """A file as the API sends it."""
    return f"data:{kind};name={name};base64,{base64.b64encode(content).decode()}"


def at_volunteer_file(runtime, session, city: str = "rennes"):
    """A project of a school whose volunteer file is the next task."""
    instance = accepted_project(runtime, session, city)
    do(runtime, session, instance.id, f"referent.{city}", "select_volunteer", sample("select_volunteer"))
    do(runtime, session, instance.id, f"tuteur.{city}", "confirm_selection", sample("confirm_selection"))
    return instance


def volunteer_file(city: str = "rennes", **changes) -> dict:
    """A valid volunteer file of a school, with some fields changed."""
    return sample("volunteer_file", tutor=f"tuteur.{city}", cotutor=f"cotuteur.{city}", **changes)


@pytest.mark.parametrize("content, expected", [(PDF, ("application/pdf", "pdf")), (PNG, ("image/png", "png")),
                                               (JPEG, ("image/jpeg", "jpg")), (EXECUTABLE, None), (b"", None),
                                               (b"<html><script>", None)])
def test_the_type_is_read_from_the_content(content, expected):
    assert sniff(content) == expected


def test_size_and_emptiness_are_checked():
    assert check_upload(Upload("a.pdf", PDF), len(PDF)) == ("application/pdf", "pdf")
    with pytest.raises(UploadRefused, match="dépasse la taille autorisée"):
        check_upload(Upload("a.pdf", PDF), len(PDF) - 1)
    with pytest.raises(UploadRefused, match="vide"):
        check_upload(Upload("a.pdf", b""), 1000)


def test_data_urls_are_read_strictly():
    upload = parse_data_url(data_url(PNG, "photo.png", "image/png"))
    assert (upload.filename, upload.content) == ("photo.png", PNG)
    for bad in ("data:application/pdf;base64,%%%", "https://exemple.fr/cni.pdf", "data:,texte"):
        with pytest.raises(UploadRefused):
            parse_data_url(bad)


def test_download_names_keep_only_safe_characters_and_the_real_extension():
    assert safe_filename("../../Pièce d'identité (recto).PDF.exe", "pdf") == "piece-d-identite-recto-pdf.pdf"
    assert safe_filename("", "png") == "document.png"


def test_a_renamed_executable_is_refused_and_not_stored(runtime, session):
    instance = at_volunteer_file(runtime, session)
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "referent.rennes", "volunteer_file",
           volunteer_file(identity_document=data_url(EXECUTABLE)))
    (message,) = invalid.value.errors["identity_document"]
    assert "n'est ni un PDF, ni une image JPEG ou PNG" in message and "contenu a été vérifié" in message
    assert session.scalars(select(Document).where(Document.instance_id == instance.id)).all() == []
    assert [r.spec_id for r in ready(session, instance.id)] == ["volunteer_file"]


def test_an_oversized_file_is_refused(session, tmp_path):
    small = ProcessRuntime(session, RuntimeSettings(tmp_path / "documents", max_upload_bytes=max_upload_bytes(0.01)),
                           clock=lambda: datetime(2027, 3, 15, 10, 0))
    instance = at_volunteer_file(small, session)
    big = PDF + b"0" * 11 * 1024
    with pytest.raises(FormInvalid) as invalid:
        do(small, session, instance.id, "referent.rennes", "volunteer_file",
           volunteer_file(identity_document=data_url(big)))
    assert invalid.value.errors["identity_document"] == ["Le fichier dépasse la taille autorisée (0,01 Mo au plus)."]
    do(small, session, instance.id, "referent.rennes", "volunteer_file", volunteer_file())


def test_the_app_gives_the_runtime_its_storage_and_upload_limit_and_handlers_no_configuration(app, tmp_path):
    assert runtime_settings_of(app) == RuntimeSettings(tmp_path / "documents", max_upload_bytes(None))
    assert "settings" not in {field.name for field in fields(HandlerContext)}


def test_a_file_is_stored_under_a_generated_name_and_referenced(runtime, session):
    instance = at_volunteer_file(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "volunteer_file",
       volunteer_file(identity_document=data_url(PNG, "Photo CNI Léa.png", "image/png")))
    (document,) = session.scalars(select(Document).where(Document.instance_id == instance.id)).all()
    assert (document.kind, document.content_type, document.filename) == ("identity_document", "image/png",
                                                                         "photo-cni-lea.png")
    assert (document.place, document.version, document.series) == (1, 1, "identity_document/place-1")
    assert re.fullmatch(r"\d{4}/\d{2}/[0-9a-f]{32}", document.storage_key), document.storage_key
    assert runtime.documents.path_of(document).read_bytes() == PNG
    workflow = runtime.load(instance).workflow
    (terms,) = [t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "draw_up_contract" and t.data.get("volunteer")]
    assert terms.data["volunteer"]["identity_document"] == {
        "document_id": document.id, "filename": "photo-cni-lea.png", "content_type": "image/png",
        "size": len(PNG), "version": 1}


def test_a_file_survives_a_mistake_elsewhere_and_is_sent_once(runtime, session):
    instance = at_volunteer_file(runtime, session)
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "referent.rennes", "volunteer_file", volunteer_file(weekly_hours=60))
    assert "entre 24 et 48 heures" in invalid.value.errors["weekly_hours"][0]
    kept = invalid.value.data["identity_document"]
    session.rollback()
    (document,) = session.scalars(select(Document).where(Document.instance_id == instance.id)).all()
    assert kept["document_id"] == document.id and kept["filename"] == "piece-identite.pdf"
    do(runtime, session, instance.id, "referent.rennes", "volunteer_file",
       volunteer_file(identity_document={"document_id": document.id}))
    assert session.scalars(select(Document).where(Document.instance_id == instance.id)).all() == [document]
    assert [r.spec_id for r in ready(session, instance.id)] == ["draw_up_contract"]


def test_a_document_of_another_instance_cannot_be_referenced(runtime, session):
    brest = at_volunteer_file(runtime, session, "brest")
    do(runtime, session, brest.id, "referent.brest", "volunteer_file", volunteer_file("brest"))
    theirs = session.scalar(select(Document).where(Document.instance_id == brest.id))
    rennes = at_volunteer_file(runtime, session)
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, rennes.id, "referent.rennes", "volunteer_file",
           volunteer_file(identity_document={"document_id": theirs.id}))
    assert invalid.value.errors["identity_document"] == ["Ce document n'est pas joint à ce dossier : envoyez le fichier."]


def test_files_are_required_where_the_form_says_so(runtime, session):
    instance = at_volunteer_file(runtime, session)
    data = volunteer_file()
    data.pop("identity_document")
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "referent.rennes", "volunteer_file", data)
    assert invalid.value.errors == {"identity_document": ["Ce champ est obligatoire."]}
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "referent.rennes", "volunteer_file", volunteer_file(identity_document=12))
    assert "Fichier attendu" in invalid.value.errors["identity_document"][0]


# Through the web pages.

TASK_LINK = re.compile(r'<a href="/taches/([0-9a-f-]{36})">')


def volunteer_file_page(browser, session, runtime) -> str:
    """As référent of Rennes, the address of the volunteer file task."""
    instance = at_volunteer_file(runtime, session)
    (row,) = ready(session, instance.id, "volunteer_file")
    browser.login("referent.rennes")
    return f"/taches/{row.id}"


def test_the_web_form_uploads_files_and_keeps_them_after_an_error(browser, session, runtime):
    page = volunteer_file_page(browser, session, runtime)
    shown = browser.client.get(page).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in shown and 'type="file"' in shown
    assert 'accept="application/pdf,image/jpeg,image/png' in shown
    assert "Thomas Riou (tuteur)" in shown and "Claire Morvan (cotuteur)" in shown
    assert "Julien Lemoine" not in shown, "a cotuteur who never logged in is not offered"
    assert 'value="Léa"' in html.unescape(shown), "the candidate's name is proposed"
    response = browser.post_form(page, as_form(volunteer_file(weekly_hours=60)))
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "entre 24 et 48 heures" in text and "Fichier joint : " in text and "piece-identite.pdf" in text
    document = session.scalar(select(Document).where(Document.kind == "identity_document"))
    assert f'name="identity_document" value="{document.id}"' in text
    kept = as_form(volunteer_file())
    kept["identity_document"] = str(document.id)
    response = browser.post_form(page, kept)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert session.scalars(select(Document).where(Document.kind == "identity_document")).all() == [document]


def test_a_renamed_executable_is_refused_by_the_web_form(browser, session, runtime):
    page = volunteer_file_page(browser, session, runtime)
    fields = as_form(volunteer_file())
    fields["identity_document"] = (io.BytesIO(EXECUTABLE), "carte-identite.pdf")
    response = browser.post_form(page, fields)
    assert response.status_code == 422
    assert "n'est ni un PDF" in html.unescape(response.get_data(as_text=True))


def test_documents_are_served_only_within_the_instance_scope(browser, session, runtime):
    instance = at_volunteer_file(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "volunteer_file", volunteer_file())
    document = session.scalar(select(Document).where(Document.instance_id == instance.id))
    url = f"/documents/{document.id}"
    assert browser.client.get(url).status_code == 302, "anonymous people are sent to log in"
    for login, status in (("referent.brest", 404), ("gestionnaire.udogec29", 404), ("tuteur.brest", 404),
                          ("referent.rennes", 200), ("gestionnaire.udogec35", 200), ("pilote", 200)):
        browser.login(login)
        response = browser.client.get(url)
        assert response.status_code == status, login
        if status == 200:
            assert response.data.startswith(b"%PDF")
            assert "attachment" in response.headers["Content-Disposition"]
        response.close()
        browser.logout()
    assert browser.client.get("/documents/999999").status_code == 302


def test_the_api_takes_files_as_data_urls_or_multipart(api, session, runtime):
    instance = at_volunteer_file(runtime, session)
    (row,) = ready(session, instance.id, "volunteer_file")
    detail = api.get(f"/api/v1/tasks/{row.id}", "referent.rennes").json
    tutor = detail["schema"]["properties"]["tutor"]
    assert [choice["const"] for choice in tutor["oneOf"]] == ["tuteur.rennes", "cotuteur.rennes"]
    assert detail["schema"]["properties"]["identity_document"]["format"] == "data-url"
    data = volunteer_file()
    data.pop("identity_document")
    refused = api.client.post(f"/api/v1/tasks/{row.id}/complete",
                              headers={"Authorization": f"Bearer {api.token('referent.rennes')}"},
                              data={"data": "{\"first_name\": ", "identity_document": (io.BytesIO(PDF), "cni.pdf")},
                              content_type="multipart/form-data")
    assert refused.status_code == 400 and refused.json["code"] == "bad_request"
    response = api.client.post(f"/api/v1/tasks/{row.id}/complete",
                               headers={"Authorization": f"Bearer {api.token('referent.rennes')}"},
                               data={"data": json.dumps(data), "identity_document": (io.BytesIO(JPEG), "cni.jpg")},
                               content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    stored = session.scalar(select(Document).where(Document.instance_id == instance.id))
    assert (stored.content_type, stored.filename) == ("image/jpeg", "cni.jpg")
    assert session.scalar(select(TaskRow.spec_id).where(TaskRow.instance_id == instance.id,
                                                        TaskRow.state == "ready")) == "draw_up_contract"
