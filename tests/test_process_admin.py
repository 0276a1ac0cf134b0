"""Deploying from the browser: upload, errors or summary of changes, confirmation, and who may do it."""
from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.models import Deployment, Establishment, StagedDeployment
from engine.runtime.deployment import current_deployment
from engine.runtime.staging import stage_files

from conftest import csrf_token, principal_of

SAMPLES = Path(__file__).parent / "validation_files"
SAMPLE_NAMES = ("sample.bpmn", "sample_quota.dmn", "sample_project.schema.json", "sample_review.schema.json")
INDEX = "/administration/processus/"


def sample(name: str) -> bytes:
    """A file of the small valid sample process."""
    return (SAMPLES / name).read_bytes()


def upload(browser, files: dict[str, bytes]):
    """Send files with the page's upload form, as a browser does."""
    token = csrf_token(browser.client, INDEX)
    data = {"csrf_token": token, "files": [(io.BytesIO(content), name) for name, content in files.items()]}
    return browser.client.post(INDEX, data=data, content_type="multipart/form-data")


def staged_id(response) -> int:
    """The upload a response redirects to."""
    match = re.search(r"/envois/(\d+)$", response.headers["Location"])
    assert match, response.headers.get("Location")
    return int(match.group(1))


def deployments(session) -> int:
    """How many versions were deployed."""
    return session.scalar(select(func.count()).select_from(Deployment))


@pytest.fixture
def owner(browser):
    """The process owner, logged in."""
    browser.login("pilote")
    return browser


def test_the_page_shows_the_deployed_version(owner, session):
    page = owner.client.get(INDEX).get_data(as_text=True)
    version = current_deployment(session)
    assert f"Version déployée : <strong>n° {version.id}</strong>" in page
    assert "Projet d&#39;accueil" in page and 'name="files"' in page and 'enctype="multipart/form-data"' in page


def test_a_file_with_errors_is_shown_and_never_deployed(owner, session):
    before = deployments(session)
    broken = sample("sample.bpmn").replace(b' default="flow_accepted"', b"")
    response = upload(owner, {"sample.bpmn": broken, "sample_quota.dmn": sample("sample_quota.dmn"),
                              "sample_project.schema.json": sample("sample_project.schema.json"),
                              "sample_review.schema.json": sample("sample_review.schema.json")})
    assert response.status_code == 302
    review = owner.client.get(response.headers["Location"])
    page = review.get_data(as_text=True)
    assert review.status_code == 422
    assert "1 erreur : rien n'est déployé." in page
    assert "<code>review_gateway</code> « Décision ? » : la passerelle a des flux sortants sans condition" in page
    assert "Déployer comme nouvelle version" not in page
    refused = owner.post_form(f"/administration/processus/envois/{staged_id(response)}/deploiement", {},
                              page=response.headers["Location"])
    assert refused.status_code == 302
    assert "ses fichiers ont des erreurs" in owner.client.get(refused.headers["Location"]).get_data(as_text=True)
    session.expire_all()
    assert deployments(session) == before
    assert session.get(StagedDeployment, staged_id(response)).status == "invalid"


def test_a_file_that_breaks_another_one_is_refused(owner, session):
    # A decision table whose id changes: the deployed hosting_project calls a decision that no longer exists.
    dmn = Path(__file__).resolve().parent.parent / "processes" / "volunteer_quota.dmn"
    changed = dmn.read_bytes().replace(b'<decision id="volunteer_quota"', b'<decision id="quota_table"')
    response = upload(owner, {"volunteer_quota.dmn": changed})
    page = owner.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "processes/hosting_project.bpmn" in page and "erreurs : rien n'est déployé" in page


def test_files_that_are_not_definitions_are_refused_in_french(owner, session):
    response = upload(owner, {"notes.txt": b"bonjour", "latin1.bpmn": "é".encode("latin-1")})
    page = owner.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "seuls les fichiers .bpmn, .dmn et .json" in page
    assert "le fichier n&#39;est pas un texte UTF-8" in page


def test_an_upload_without_files_says_what_to_do(owner):
    token = csrf_token(owner.client, INDEX)
    response = owner.client.post(INDEX, data={"csrf_token": token}, content_type="multipart/form-data",
                                 follow_redirects=True)
    assert "Choisissez au moins un fichier" in response.get_data(as_text=True)


def test_summary_then_deploy_on_confirmation(owner, session, runtime):
    rennes = session.scalar(select(Establishment).where(Establishment.uai == "0350781J"))
    running = runtime.start("hosting_project", principal_of(session, "referent.rennes"), establishment=rennes,
                            campaign="2027-2028")
    first = current_deployment(session).id
    response = upload(owner, {name: sample(name) for name in SAMPLE_NAMES})
    page = owner.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Processus « Projet d&#39;exemple » <code>sample</code> — nouveau" in page
    assert "<code>describe_project</code> « Décrire le projet » (tâche utilisateur)" in page
    assert "Déployer comme nouvelle version" in page
    session.expire_all()
    assert current_deployment(session).id == first, "nothing is deployed before the confirmation"

    deployed = owner.post_form(f"/administration/processus/envois/{staged_id(response)}/deploiement", {},
                               page=response.headers["Location"])
    assert deployed.status_code == 302 and deployed.headers["Location"].endswith(INDEX)
    session.expire_all()
    version = current_deployment(session)
    assert version.id != first and "sample" in version.process_ids and version.deployed_by == "pilote"
    assert "processes/sample.bpmn" in version.files and "processes/hosting_project.bpmn" in version.files
    assert session.get(StagedDeployment, staged_id(response)).status == "deployed"
    session.refresh(running)
    assert running.deployment_id == first, "a running instance stays on its version"
    assert f"Version n° {version.id} déployée" in owner.client.get(INDEX).get_data(as_text=True)

    # Against that version: a task renamed, one whose id changed, one replaced, a form field added.
    changed = (sample("sample.bpmn").decode()
               .replace('name="Décrire le projet"', 'name="Présenter le projet"')
               .replace("review_sample", "examine_sample")
               .replace('id="open_places" name="Ouvrir les places"', 'id="prepare_places" name="Préparer les places"')
               .replace("open_places", "prepare_places"))
    form = sample("sample_project.schema.json").decode().replace(
        '"properties": {', '"properties": {\n    "summary": {"type": "string", "title": "Résumé"},')
    response = upload(owner, {"sample.bpmn": changed.encode(), "sample_project.schema.json": form.encode(),
                              "sample_quota.dmn": sample("sample_quota.dmn")})
    page = owner.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<code>describe_project</code> : « Décrire le projet » devient « Présenter le projet »" in page
    assert "« Instruire le projet » : <code>review_sample</code> devient <code>examine_sample</code>" in page
    assert "Tâches ajoutées :" in page and "<code>prepare_places</code> « Préparer les places » (script)" in page
    assert "Tâches supprimées :" in page and "<code>open_places</code> « Ouvrir les places » (script)" in page
    assert "Champs ajoutés : <code>summary</code>" in page
    assert "<code>processes/sample_quota.dmn</code> : identique à la version déployée" in page


def test_identical_files_have_nothing_to_deploy(owner, session):
    root = Path(__file__).resolve().parent.parent
    response = upload(owner, {"training.bpmn": (root / "processes" / "training.bpmn").read_bytes()})
    page = owner.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "identiques à la version déployée : il n'y a rien à déployer" in page
    assert "Déployer comme nouvelle version" not in page


def test_confirmation_needs_the_csrf_token(owner, session):
    response = upload(owner, {name: sample(name) for name in SAMPLE_NAMES})
    before = deployments(session)
    forged = owner.client.post(f"/administration/processus/envois/{staged_id(response)}/deploiement")
    assert forged.status_code == 400
    session.expire_all()
    assert deployments(session) == before


def test_a_version_deployed_meanwhile_makes_the_upload_stale(owner, session):
    from engine.runtime.deployment import deploy, read_definition_files

    response = upload(owner, {name: sample(name) for name in SAMPLE_NAMES})
    root = Path(__file__).resolve().parent.parent
    files = read_definition_files(root / "processes", root / "forms")
    files["forms/extra.schema.json"] = '{"type": "object", "properties": {}}'
    deploy(session, files, actor="cli")
    session.commit()
    refused = owner.post_form(f"/administration/processus/envois/{staged_id(response)}/deploiement", {},
                              page=response.headers["Location"])
    page = owner.client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Une autre version (n° " in page and "a été déployée depuis cet envoi" in page


def test_discarding_deploys_nothing(owner, session):
    response = upload(owner, {name: sample(name) for name in SAMPLE_NAMES})
    before = deployments(session)
    owner.post_form(f"/administration/processus/envois/{staged_id(response)}/abandon", {},
                    page=response.headers["Location"])
    session.expire_all()
    assert session.get(StagedDeployment, staged_id(response)).status == "discarded"
    assert deployments(session) == before


@pytest.mark.parametrize("login", ["referent.rennes", "tuteur.rennes", "gestionnaire.udogec35",
                                   "gestionnaire.fnogec"])
def test_only_process_owners_may_deploy(browser, session, login):
    staged = stage_files(session, principal_of(session, "pilote"),
                         [(name, sample(name)) for name in SAMPLE_NAMES], datetime.now())
    browser.login(login)
    assert browser.client.get(INDEX).status_code == 403
    assert browser.client.get(f"/administration/processus/envois/{staged.id}").status_code == 403
    token = csrf_token(browser.client, "/")
    response = browser.client.post(f"/administration/processus/envois/{staged.id}/deploiement",
                                   data={"csrf_token": token})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(StagedDeployment, staged.id).status == "pending"
    assert "Versions des processus" not in browser.client.get("/").get_data(as_text=True)
