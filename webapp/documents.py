"""Downloading an instance's documents, for those who may see the instance."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, send_file
from flask_login import login_required

from engine.access import UNSEEN_DOCUMENT, can_view
from engine.campaign.gdpr import record_access
from engine.documents import DocumentStore
from engine.errors import NotFound
from engine.models import Document, ProcessInstance
from webapp.auth import principal
from webapp.config import settings_of
from webapp.database import db_session

bp = Blueprint("documents", __name__, url_prefix="/documents")


@bp.route("/<int:document_id>")
@login_required
def download(document_id: int):
    """Send a document's file to a user who may see its instance; to anyone else it does not exist."""
    session = db_session()
    document = session.get(Document, document_id)
    instance = session.get(ProcessInstance, document.instance_id) if document is not None else None
    if document is None or instance is None or not can_view(session, principal(), instance):
        # Outside one's scope a document does not exist: its address reveals nothing (404, not 403).
        raise NotFound(UNSEEN_DOCUMENT)
    path = DocumentStore(settings_of().storage_dir).path_of(document)
    if not path.is_file():
        raise NotFound(UNSEEN_DOCUMENT)
    record_access(session, principal(), instance, "document", "web", datetime.now())
    return send_file(path, mimetype=document.content_type, as_attachment=True, download_name=document.filename)
