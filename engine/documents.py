"""Documents produced or uploaded for an instance, stored as files under STORAGE_DIR.

Files are written under generated names (`YYYY/MM/<random hex>`): nothing a user
typed reaches the file system. Successive versions of one document (a contract
generated again, a new signed copy) share a series, are numbered from 1, and
older versions are kept.
"""
from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from engine.db import attach_as_read
from engine.models import Document

CONTENT_LABELS = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
_DOCUMENTS = Document.__table__


def next_version(instance_id: Any, series: Any) -> ScalarSelect:
    """The next version of a series of an instance's documents, as a subquery of the statement that writes it.

    Computed by the writing statement itself (a document's INSERT, a contract's upsert): one statement, not two.
    """
    return (select(func.coalesce(func.max(_DOCUMENTS.c.version), 0) + 1)
            .where(_DOCUMENTS.c.instance_id == instance_id, _DOCUMENTS.c.series == series).scalar_subquery())


ADD_DOCUMENT = insert(_DOCUMENTS).returning(_DOCUMENTS.c.id, _DOCUMENTS.c.version)
ADD_NEXT_VERSION = (insert(_DOCUMENTS).values(version=next_version(bindparam("of_instance"), bindparam("of_series")))
                    .returning(_DOCUMENTS.c.id, _DOCUMENTS.c.version))


class DocumentStore:
    """Writes document files under a directory with generated names, and their rows."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_of(self, document: Document) -> Path:
        """Where a document's content lies on disk."""
        return self.root / document.storage_key

    def save(self, session: Session, instance_id: int, task_id: str | None, kind: str, title: str,
             filename: str, content_type: str, content: bytes, series: str | None = None,
             place: int | None = None, version: int | None = None) -> Document:
        """Write the content to disk and add its row to the session (the caller commits).

        A document of a `series` gets the next version number of that series in the instance, or `version` when
        the caller knows it already (a contract's, returned by the statement that records the contract).
        """
        key = f"{datetime.now():%Y/%m}/{secrets.token_hex(16)}"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(content)
        os.replace(temporary, path)
        values = {"instance_id": instance_id, "task_id": task_id, "kind": kind, "title": title, "filename": filename,
                  "content_type": content_type, "storage_key": key, "size": len(content),
                  "sha256": hashlib.sha256(content).hexdigest(), "created_at": datetime.now(), "series": series,
                  "place": place}
        if series is not None and version is None:
            # Unknown yet, the version is computed by the INSERT itself, which returns it.
            added = session.execute(ADD_NEXT_VERSION, {**values, "of_instance": instance_id, "of_series": series})
        else:
            added = session.execute(ADD_DOCUMENT, {**values, "version": version})
        document_id, values["version"] = added.one()
        # The row joins the session as if read (a plain statement costs a fraction of an ORM INSERT … RETURNING).
        return attach_as_read(session, Document, {"id": document_id, **values})


class InstanceDocuments:
    """The `Documents` a handler sees: storage bound to one instance and task."""

    def __init__(self, store: DocumentStore, session: Session, instance_id: int, task_id: str | None = None):
        self.backend = store
        self.session = session
        self.instance_id = instance_id
        self.task_id = task_id

    def store(self, kind: str, title: str, filename: str, content_type: str, content: bytes,
              series: str | None = None, place: int | None = None, version: int | None = None) -> dict:
        """Store a document of the instance (a new version when its series has one) and describe it."""
        document = self.backend.save(self.session, self.instance_id, self.task_id, kind, title, filename,
                                     content_type, content, series=series, place=place, version=version)
        return {"id": document.id, "filename": document.filename, "version": document.version}


@dataclass
class ListedDocument:
    """A document as lists show it: whether a later version replaced it, its format in words."""

    document: Document
    current: bool

    @property
    def format_label(self) -> str:
        """PDF, JPEG or PNG."""
        return CONTENT_LABELS.get(self.document.content_type, self.document.content_type)


def list_documents(session: Session, instance_id: int, place: int | None = None) -> list[ListedDocument]:
    """Documents of an instance (of one place when given), newest first, each saying if it is the latest version."""
    query = select(Document).where(Document.instance_id == instance_id)
    if place is not None:
        query = query.where(Document.place == place)
    documents = list(session.scalars(query.order_by(Document.created_at.desc(), Document.id.desc())))
    latest: dict[str, int] = {}
    for document in documents:
        if document.series is not None:
            latest[document.series] = max(latest.get(document.series, 0), document.version or 0)
    return [ListedDocument(d, d.series is None or d.version == latest[d.series]) for d in documents]
