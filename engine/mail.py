"""Outgoing mail: every message is recorded with the work that caused it, then delivered after the commit.

`Mailer.send` only adds a `notification` row to the current transaction: a
rolled-back action sends nothing. Workers deliver the rows afterwards, each
message claimed by one worker (see `engine.runtime.claims`), through SMTP (`SMTP_URL`)
or, for the demo, as `.eml` files in a folder (`MAIL_DIR`). A message that
fails is tried again later with a growing delay; a server that is down loses
nothing. Users with an account also read their messages in the app.
"""
from __future__ import annotations

import logging
import os
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse
from uuid import uuid4

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from engine.models import Notification, Person, TrainingSession
from engine.prepared import PreparedWrite
from engine.runtime.claims import claim_next

log = logging.getLogger(__name__)

# Delays before the next attempt after 1, 2, 3… failures; the last one repeats.
RETRY_DELAYS = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)]


def instance_link(session: Session, instance_id: int) -> str:
    """Path of the page where a message about an instance is best followed: its page, or its training session's."""
    session_id = session.scalar(select(TrainingSession.id).where(TrainingSession.instance_id == instance_id))
    return f"/formations/{session_id}" if session_id is not None else f"/dossiers/{instance_id}"


def task_link(task_id: str) -> str:
    """Path of a task's page."""
    return f"/taches/{task_id}"


# The recipient's account (the oldest with that address) is looked up by the notification's own INSERT.
ADD_NOTIFICATION = PreparedWrite(insert(Notification.__table__).values(
    person_id=select(Person.id).where(func.lower(Person.email) == bindparam("email"))
    .order_by(Person.id).limit(1).scalar_subquery()))


class Mailer:
    """Records messages in the notification table; they are sent once the transaction commits."""

    def __init__(self, session: Session, instance_id: int | None = None,
                 clock: Callable[[], datetime] = datetime.now, link: str | None = None):
        """`link` is the instance's page when the caller knows it is not a training session's (`instance_link`)."""
        self.session = session
        self.instance_id = instance_id
        self.clock = clock
        self._link = link

    def send(self, recipient: str, subject: str, body: str, link: str | None = None) -> None:
        """Queue one message, in the same transaction as the work that caused it.

        Inserted at once, without an ORM object: nothing reads it back before the commit, and a handler's message
        then costs one plain statement instead of a unit-of-work flush.
        """
        now = self.clock()
        ADD_NOTIFICATION.execute(self.session, {
            "instance_id": self.instance_id, "recipient": recipient, "subject": subject, "body": body,
            "created_at": now, "next_attempt_at": now, "email": recipient.strip().lower(),
            "link": link or self._instance_link(),
        })

    def _instance_link(self) -> str | None:
        if self._link is None and self.instance_id is not None:
            with self.session.no_autoflush:
                self._link = instance_link(self.session, self.instance_id)
        return self._link


def compose(notification: Notification, sender: str, base_url: str | None) -> EmailMessage:
    """The email of a notification: plain French text, with the link to follow when there is one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notification.recipient
    message["Subject"] = notification.subject
    message["Date"] = format_datetime(notification.created_at.astimezone())
    message["Message-ID"] = make_msgid(idstring=f"notification-{notification.id}")
    body = notification.body
    # Only people with an account can follow a link into the platform (volunteers have none).
    if notification.link and base_url and notification.person_id is not None:
        body += f"\n\nPour y accéder : {base_url.rstrip('/')}{notification.link}"
    message.set_content(body)
    return message


class Transport(Protocol):
    """Where delivered messages go."""

    def deliver(self, message: EmailMessage) -> None:
        """Hand one message over; raise `OSError` or `smtplib.SMTPException` when it cannot be."""


@dataclass
class SmtpTransport:
    """Delivery through the SMTP server of `url` (smtp://user:password@host:port or smtps://…)."""

    url: str

    def deliver(self, message: EmailMessage) -> None:
        """Send one message."""
        url = urlparse(self.url)
        client_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
        port = url.port or (465 if url.scheme == "smtps" else 25)
        with client_class(url.hostname or "localhost", port, timeout=10) as client:
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(message)


@dataclass
class FolderTransport:
    """Delivery as one `.eml` file per message in a folder, for a demo without a mail server."""

    folder: Path

    def deliver(self, message: EmailMessage) -> None:
        """Write the message as a file, atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        number = re.search(r"notification-(\d+)", message["Message-ID"] or "")
        path = self.folder / f"{datetime.now():%Y%m%d-%H%M%S}-{number.group(1) if number else uuid4().hex}.eml"
        partial = path.with_suffix(".part")
        partial.write_bytes(message.as_bytes())
        os.replace(partial, path)


def transport_from_settings(settings: dict) -> Transport | None:
    """SMTP when `SMTP_URL` is set, else the `MAIL_DIR` folder when set, else None (messages wait)."""
    if settings.get("SMTP_URL"):
        return SmtpTransport(settings["SMTP_URL"])
    if settings.get("MAIL_DIR"):
        return FolderTransport(Path(settings["MAIL_DIR"]))
    return None


# A recipient refused, a message refused: trying again would fail the same way.
PERMANENT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def deliver_pending(session: Session, transport: Transport | None, sender: str, *, base_url: str | None = None,
                    now: datetime | None = None, worker: str = "cli", limit: int = 100) -> int:
    """Deliver queued messages due now, one transaction each; return how many went out.

    A failure keeps the message with its error and schedules another attempt;
    a permanent refusal (unknown recipient) is not tried again.
    """
    if transport is None:
        return 0
    sent = 0
    for _ in range(limit):
        moment = now or datetime.now()
        claimed = claim_next(session, Notification, Notification.sent_at.is_(None) & (
            Notification.next_attempt_at <= moment), Notification.next_attempt_at, worker, moment)
        if claimed is None:
            break
        # Read again: the claim was written around the session, which may hold an older copy.
        notification = session.get_one(Notification, claimed, populate_existing=True)
        try:
            transport.deliver(compose(notification, sender, base_url))
        except (OSError, smtplib.SMTPException) as error:
            _failed(notification, error, moment)
        else:
            notification.sent_at = moment
            notification.error = None
            sent += 1
        notification.attempts += 1
        notification.claimed_by = notification.claimed_until = None
        session.commit()
    return sent


def _failed(notification: Notification, error: Exception, now: datetime) -> None:
    notification.error = str(error) or error.__class__.__name__
    if isinstance(error, PERMANENT):
        notification.next_attempt_at = None
        log.error("Courriel à %s refusé définitivement : %s", notification.recipient, error)
        return
    delay = RETRY_DELAYS[min(notification.attempts, len(RETRY_DELAYS) - 1)]
    notification.next_attempt_at = now + delay
    log.warning("Échec d'envoi du courriel à %s (nouvel essai à %s) : %s", notification.recipient,
                notification.next_attempt_at, error)
