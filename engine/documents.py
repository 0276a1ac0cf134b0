"""Documents produced or uploaded for an instance, stored as files under STORAGE_DIR."""
from __future__ import annotations

import hashlib
import os
import secrets
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from engine.models import Document


class DocumentStore:
    """Writes document files under a directory with generated names, and their rows."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_of(self, document: Document) -> Path:
        """Where a document's content lies on disk."""
        return self.root / document.storage_key

    def save(self, session: Session, instance_id: int, task_id: str | None, kind: str, title: str,
             filename: str, content_type: str, content: bytes) -> Document:
        """Write the content to disk and add its row to the session (the caller commits)."""
        key = f"{datetime.now():%Y/%m}/{secrets.token_hex(16)}"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(content)
        os.replace(temporary, path)
        document = Document(
            instance_id=instance_id,
            task_id=task_id,
            kind=kind,
            title=title,
            filename=filename,
            content_type=content_type,
            storage_key=key,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            created_at=datetime.now(),
        )
        session.add(document)
        session.flush()
        return document


class InstanceDocuments:
    """The `Documents` a handler sees: storage bound to one instance and task."""

    def __init__(self, store: DocumentStore, session: Session, instance_id: int, task_id: str | None = None):
        self.backend = store
        self.session = session
        self.instance_id = instance_id
        self.task_id = task_id

    def store(self, kind: str, title: str, filename: str, content_type: str, content: bytes) -> dict:
        """Store a document of the instance and describe it."""
        document = self.backend.save(self.session, self.instance_id, self.task_id, kind, title,
                                           filename, content_type, content)
        return {"id": document.id, "filename": document.filename}
