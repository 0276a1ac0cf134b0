"""Outgoing mail: every message is recorded, and sent through SMTP when SMTP_URL is set."""
from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Notification

log = logging.getLogger(__name__)


class Mailer:
    """Records messages in the notification table; they are sent once the transaction commits."""

    def __init__(self, session: Session, instance_id: int | None = None):
        self.session = session
        self.instance_id = instance_id

    def send(self, recipient: str, subject: str, body: str) -> None:
        """Queue one message, in the same transaction as the work that caused it."""
        self.session.add(Notification(
            instance_id=self.instance_id, recipient=recipient, subject=subject, body=body, created_at=datetime.now()
        ))


def deliver_pending(session: Session, smtp_url: str | None, sender: str, limit: int = 100) -> int:
    """Send queued messages through SMTP; keep a failure with its error. Return how many were sent."""
    if not smtp_url:
        return 0
    pending = session.scalars(
        select(Notification).where(Notification.sent_at.is_(None), Notification.error.is_(None)).limit(limit)
    ).all()
    sent = 0
    for notification in pending:
        try:
            send_smtp(smtp_url, sender, notification.recipient, notification.subject, notification.body)
            notification.sent_at = datetime.now()
            sent += 1
        except (OSError, smtplib.SMTPException) as error:
            notification.error = str(error)
            log.warning("Échec d'envoi du courriel à %s : %s", notification.recipient, error)
    session.commit()
    return sent


def send_smtp(smtp_url: str, sender: str, recipient: str, subject: str, body: str) -> None:
    """Send one plain-text message through the server of `smtp_url` (smtp:// or smtps://)."""
    url = urlparse(smtp_url)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)
    client_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with client_class(url.hostname or "localhost", url.port or (465 if url.scheme == "smtps" else 25), timeout=10) as client:
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(message)
