"""Deploying changed definition files from the browser: upload, validate, review the changes, confirm.

Uploaded files are kept in a `StagedDeployment` between the upload and the
confirmation, over the version deployed at upload time. Nothing is deployed
while a file has an error: the running version stays untouched, and so does
every instance on it. A confirmation deploys through `engine.runtime.deployment`,
which creates a new version only when the content differs.
"""
from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Principal, require_process_owner
from engine.errors import Refusal, rolls_back
from engine.models import Deployment, Person, StagedDeployment
from engine.runtime.definition_changes import has_changes, summarise_changes
from engine.runtime.deployment import DeploymentError, current_deployment, deploy
from engine.validation import Problem, validate_files

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FILES = 40
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.(bpmn|dmn|json)$")
_FOLDERS = {"bpmn": "processes", "dmn": "processes", "json": "forms"}


class StagingRefused(Refusal):
    """Files cannot be staged, or a staged deployment confirmed or dropped; the message says why, in French."""

    status = 409


@rolls_back
def stage_files(session: Session, principal: Principal, uploads: list[tuple[str, bytes]],
                now: datetime) -> StagedDeployment:
    """Keep uploaded files over the deployed version, with their validation and summary of changes; commit."""
    require_process_owner(principal)
    if not uploads:
        raise StagingRefused("Choisissez au moins un fichier BPMN, DMN ou formulaire JSON à envoyer.")
    if len(uploads) > MAX_FILES:
        raise StagingRefused(f"Envoyez au plus {MAX_FILES} fichiers à la fois.")
    base = current_deployment(session)
    before = dict(base.files) if base is not None else {}
    files, refused = _read_uploads(uploads)
    candidate = {**before, **files}
    problems = refused + _problems(before, candidate, list(files))
    changes = summarise_changes(before, files)
    staged = StagedDeployment(
        base_deployment_id=base.id if base is not None else None, files=files,
        report={"problems": [asdict(p) for p in problems], "changes": changes},
        status="invalid" if any(p.is_error for p in problems) else "pending",
        created_at=now, created_by_id=principal.person_id,
    )
    session.add(staged)
    session.commit()
    return staged


@rolls_back
def stage_edits(session: Session, principal: Principal, edits: dict[str, str], now: datetime,
                continued: int | None = None) -> StagedDeployment:
    """Stage files edited in the browser, over the files of the staged deployment they continue (if any); commit.

    Saving again in the editor replaces the earlier staging by a new one holding its files and the edited ones,
    so that one review deploys everything edited since the editor was opened; the earlier one is dropped.
    """
    earlier = _open_staged(session, continued) if continued is not None else None
    uploads = {key.rsplit("/", 1)[-1]: content for key, content in (earlier.files.items() if earlier else ())}
    uploads.update(edits)
    staged = stage_files(session, principal, [(name, text.encode("utf-8")) for name, text in uploads.items()], now)
    if earlier is not None:
        earlier.status = "discarded"
        earlier.decided_at = now
        earlier.decided_by_id = principal.person_id
        session.commit()
    return staged


def _open_staged(session: Session, staged_id: int) -> StagedDeployment:
    staged = session.get(StagedDeployment, staged_id)
    if staged is None or staged.status not in ("pending", "invalid"):
        raise StagingRefused("Cet envoi n'est plus modifiable (déployé ou abandonné) : rouvrez le fichier depuis "
                             "la page des versions des processus.")
    return staged


def edited_content(session: Session, name: str, staged_id: int | None = None) -> tuple[str | None, StagedDeployment | None]:
    """A file's text as the editor opens it: from a still open staged deployment if given, else the deployed one.

    `name` is the file's key (`processes/<file>` or `forms/<file>`); None when neither holds the file.
    """
    staged = _open_staged(session, staged_id) if staged_id is not None else None
    files = candidate_files(session, staged) if staged is not None else dict(getattr(current_deployment(session),
                                                                                      "files", None) or {})
    return files.get(name), staged


def _read_uploads(uploads: list[tuple[str, bytes]]) -> tuple[dict[str, str], list[Problem]]:
    files: dict[str, str] = {}
    refused: list[Problem] = []
    for filename, content in uploads:
        name = filename.replace("\\", "/").rsplit("/", 1)[-1]
        match = _NAME.match(name)
        if match is None:
            refused.append(Problem("upload", name or "?", "seuls les fichiers .bpmn, .dmn et .json (formulaires) "
                                                         "s'envoient, nommés de lettres, chiffres, « _ », « - » et « . »."))
            continue
        if len(content) > MAX_FILE_BYTES:
            refused.append(Problem("upload", name, f"le fichier dépasse {MAX_FILE_BYTES // (1024 * 1024)} Mo."))
            continue
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            refused.append(Problem("upload", name, "le fichier n'est pas un texte UTF-8 : enregistrez-le depuis le "
                                                   "modeleur ou un éditeur de texte en UTF-8."))
            continue
        key = f"{_FOLDERS[match.group(1)]}/{name}"
        if key in files:
            refused.append(Problem("upload", key, "le même fichier est envoyé deux fois."))
            continue
        files[key] = text
    return files, refused


def _problems(before: dict[str, str], candidate: dict[str, str], uploaded: list[str]) -> list[Problem]:
    """Problems of the uploaded files, and those they cause in other files (not already there before)."""
    if not uploaded:
        return []
    report = validate_files(candidate)
    known = {_key(p) for p in validate_files(before).problems} if before else set()
    return [p for p in report.problems if p.file in uploaded or _key(p) not in known]


def _key(problem: Problem) -> tuple:
    return problem.rule, problem.file, problem.element_id, problem.message


def candidate_files(session: Session, staged: StagedDeployment) -> dict[str, str]:
    """The files a confirmation would deploy: the base version's, with the uploaded ones over them."""
    base = session.get(Deployment, staged.base_deployment_id) if staged.base_deployment_id else None
    return {**(dict(base.files) if base is not None else {}), **staged.files}


@rolls_back
def confirm_staged(session: Session, principal: Principal, staged_id: int, now: datetime) -> Deployment:
    """Deploy a staged set of files as a new version, after checking it again; commit."""
    require_process_owner(principal)
    staged = session.scalar(select(StagedDeployment).where(StagedDeployment.id == staged_id).with_for_update())
    if staged is None:
        raise StagingRefused("Cet envoi n'existe pas.")
    if staged.status != "pending":
        raise StagingRefused("Cet envoi n'est plus à confirmer : "
                             + {"deployed": "il est déjà déployé.", "discarded": "il a été abandonné.",
                                "invalid": "ses fichiers ont des erreurs."}.get(staged.status, staged.status))
    base = current_deployment(session)
    base_id = base.id if base is not None else None
    if base_id != staged.base_deployment_id:
        raise StagingRefused(f"Une autre version (n° {base_id}) a été déployée depuis cet envoi : envoyez vos "
                             "fichiers à nouveau pour voir ce qu'ils changent par rapport à elle.")
    if not has_changes(staged.report["changes"]):
        raise StagingRefused("Ces fichiers sont identiques à la version déployée : il n'y a rien à déployer.")
    files = candidate_files(session, staged)
    if not validate_files(files, list(staged.files)).ok:
        raise StagingRefused("Ces fichiers ont des erreurs : rien n'est déployé.")
    person = session.get(Person, principal.person_id)
    try:
        deployment = deploy(session, files, actor=person.login if person is not None else None, now=now)
    except DeploymentError as error:
        raise StagingRefused(f"Le déploiement est refusé : {error}") from error
    staged.status = "deployed"
    staged.deployment_id = deployment.id
    staged.decided_at = now
    staged.decided_by_id = principal.person_id
    session.commit()
    return deployment


@rolls_back
def discard_staged(session: Session, principal: Principal, staged_id: int, now: datetime) -> StagedDeployment:
    """Drop a staged set of files without deploying it; commit."""
    require_process_owner(principal)
    staged = session.get(StagedDeployment, staged_id)
    if staged is None:
        raise StagingRefused("Cet envoi n'existe pas.")
    if staged.status in ("pending", "invalid"):
        staged.status = "discarded"
        staged.decided_at = now
        staged.decided_by_id = principal.person_id
        session.commit()
    return staged


def problems_of(staged: StagedDeployment) -> list[Problem]:
    """The validation problems recorded with a staged deployment."""
    return [Problem(**problem) for problem in staged.report.get("problems", [])]
