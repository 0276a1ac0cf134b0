"""Queued notifications go out through a real SMTP server on loopback."""
from __future__ import annotations

import socket
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message

from engine.mail import Mailer, deliver_pending
from engine.models import Notification


class Inbox(Message):
    """Keeps every message the server receives."""

    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield f"smtp://127.0.0.1:{controller.port}", inbox
    controller.stop()


def test_queued_messages_are_sent_once(session, smtp_server):
    url, inbox = smtp_server
    Mailer(session).send("referent.rennes@example.org", "Projet d'accueil refusé", "Bonjour,\n\nMotif : à revoir.")
    session.commit()
    assert deliver_pending(session, url, "Service Civique <sc@example.org>") == 1
    assert deliver_pending(session, url, "Service Civique <sc@example.org>") == 0
    (message,) = inbox.messages
    assert message["To"] == "referent.rennes@example.org"
    assert str(make_header(decode_header(message["Subject"]))) == "Projet d'accueil refusé"
    assert "Motif : à revoir." in message.get_payload(decode=True).decode("utf-8")
    assert session.query(Notification).one().sent_at is not None


def test_unreachable_server_keeps_the_message_with_its_error(session):
    Mailer(session).send("tuteur.rennes@example.org", "Invitation", "Bonjour")
    session.commit()
    assert deliver_pending(session, f"smtp://127.0.0.1:{free_port()}", "sc@example.org") == 0
    notification = session.query(Notification).one()
    assert notification.sent_at is None and notification.error
