"""Files attached to a form (identity document, signed contract): checked, stored, referenced.

A form field is a file when its JSON Schema says `"format": "data-url"` (the
react-jsonschema-form and SpiffArena convention). A file arrives either from a
browser (multipart upload), or from the API as a data URL
(`data:application/pdf;name=contrat.pdf;base64,…`). It is accepted only when its
*content* is a PDF, a JPEG or a PNG (magic bytes; the name and the declared type
are not trusted) and not larger than the configured limit. It is then stored
under STORAGE_DIR with a generated name, and the form keeps a reference:
`{"document_id", "filename", "content_type", "size", "version"}`. Sending that
reference back (only `document_id` is read) keeps a file already attached to the
same instance for the same field.

Stored files are committed at once, before the rest of the form is validated:
when another field is wrong, the file is not lost and the page offers to keep it.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine.documents import DocumentStore
from engine.errors import Refusal
from engine.forms import Form
from engine.models import Document, TaskRow
from handlers.formats import slug

# (leading bytes, content type, file extension) of the accepted formats.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)
DEFAULT_MAX_UPLOAD_MB = 5
DATA_URL = re.compile(r"^data:(?P<type>[^;,]*)(?P<params>(?:;[^;,]*)*?);base64,(?P<data>.*)$", re.S)
REFERENCE_KEYS = ("document_id", "filename", "content_type", "size", "version")


class UploadRefused(Refusal):
    """A file cannot be accepted; the message says why, in French. `Attachments` makes it a field error."""

    status = 422


@dataclass
class Upload:
    """A file as received: the name its sender gave it and its bytes."""

    filename: str
    content: bytes


def sniff(content: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a PDF, JPEG or PNG content, read from its first bytes; None otherwise."""
    for magic, content_type, extension in SIGNATURES:
        if content.startswith(magic):
            return content_type, extension
    return None


def max_upload_bytes(megabytes: float | None) -> int:
    """Largest accepted file in bytes, from the MAX_UPLOAD_MB setting (the default when not set)."""
    return int(float(megabytes or DEFAULT_MAX_UPLOAD_MB) * 1024 * 1024)


def check_upload(upload: Upload, max_bytes: int) -> tuple[str, str]:
    """(content type, extension) of an acceptable file; raise `UploadRefused` otherwise."""
    if not upload.content:
        raise UploadRefused("Le fichier est vide.")
    if len(upload.content) > max_bytes:
        raise UploadRefused(f"Le fichier dépasse la taille autorisée ({_megabytes(max_bytes)} Mo au plus).")
    found = sniff(upload.content)
    if found is None:
        raise UploadRefused("Ce fichier n'est ni un PDF, ni une image JPEG ou PNG : son contenu a été vérifié, "
                            "pas seulement son nom. Enregistrez le document en PDF ou photographiez-le.")
    return found


def parse_data_url(text: str) -> Upload:
    """The file a data URL carries (`data:<type>;name=<nom>;base64,<contenu>`); raise `UploadRefused`."""
    match = DATA_URL.match(text)
    if match is None:
        raise UploadRefused("Fichier attendu sous la forme d'une URL de données : "
                            "data:application/pdf;name=fichier.pdf;base64,….")
    name = "document"
    for parameter in match.group("params").split(";"):
        key, _, value = parameter.partition("=")
        if key == "name" and value:
            name = value
    try:
        content = base64.b64decode(match.group("data"), validate=True)
    except (binascii.Error, ValueError):
        raise UploadRefused("Le contenu du fichier n'est pas du base64 valide.") from None
    return Upload(filename=name, content=content)


def safe_filename(name: str, extension: str) -> str:
    """A download name made of the sender's file name (letters, digits, dashes) and the real extension."""
    stem = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    return f"{slug(stem)[:80].rstrip('-')}.{extension}"


def reference(document: Document) -> dict:
    """What a form keeps of an attached file."""
    return {"document_id": document.id, "filename": document.filename, "content_type": document.content_type,
            "size": document.size, "version": document.version}


def _megabytes(size: int) -> str:
    return f"{round(size / (1024 * 1024), 2):g}".replace(".", ",")


class Attachments:
    """Receives the files of one task's submission, for its instance and place."""

    def __init__(self, session: Session, store: DocumentStore, row: TaskRow, max_bytes: int):
        self.session = session
        self.store = store
        self.row = row
        self.max_bytes = max_bytes

    def receive(self, form: Form, data: dict) -> tuple[dict, dict[str, list[str]]]:
        """Store the files of `data`, replaced by their references; return the data and French errors by field."""
        data = dict(data)
        errors: dict[str, list[str]] = {}
        stored = False
        for name in form.file_fields():
            value = data.get(name)
            try:
                if isinstance(value, str) and value.startswith("data:"):
                    value = parse_data_url(value)
                if isinstance(value, Upload):
                    data[name] = reference(self._store(form, name, value))
                    stored = True
                elif isinstance(value, dict):
                    data[name] = reference(self._attached(name, value))
                elif value is not None:
                    raise UploadRefused("Fichier attendu : joignez un PDF, une image JPEG ou PNG.")
            except UploadRefused as refused:
                data.pop(name, None)
                errors[name] = [str(refused)]
        if stored:
            # Kept even when another field is wrong: the person does not send the file again.
            self.session.commit()
        return data, errors

    def _store(self, form: Form, name: str, upload: Upload) -> Document:
        content_type, extension = check_upload(upload, self.max_bytes)
        title = form.properties[name].get("title", name)
        place = self.row.place
        series = f"{name}/place-{place}" if place is not None else name
        return self.store.save(self.session, self.row.instance_id, self.row.id, name,
                               title + (f" — place {place}" if place is not None else ""),
                               safe_filename(upload.filename, extension), content_type, upload.content,
                               series=series, place=place)

    def _attached(self, name: str, value: dict) -> Document:
        document_id = value.get("document_id")
        wanted = isinstance(document_id, int) and not isinstance(document_id, bool)
        document = self.session.get(Document, document_id) if wanted else None
        if (document is None or document.instance_id != self.row.instance_id or document.kind != name
                or document.place != self.row.place):
            raise UploadRefused("Ce document n'est pas joint à ce dossier : envoyez le fichier.")
        return document
