"""Queued notifications go out after the commit, through a real SMTP server on loopback, retried until delivered."""
from __future__ import annotations

import socket
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select

from engine.mail import FolderTransport, Mailer, SmtpTransport, deliver_pending
from engine.models import Notification, Person

from follow_up_support import run_worker

SENDER = "Service Civique <sc@example.org>"
NOW = datetime(2027, 3, 15, 10, 0)


class Inbox(Message):
    """Keeps every message the server receives; refuses the addresses in `unknown`."""

    def __init__(self, unknown: tuple[str, ...] = ()):
        super().__init__()
        self.messages = []
        self.unknown = unknown

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        """Refuse unknown recipients as a real server would (5xx: do not try again)."""
        if address in self.unknown:
            return "550 5.1.1 Destinataire inconnu"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def handle_message(self, message):
        self.messages.append(message)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def start_server(inbox: Inbox, port: int) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


@pytest.fixture
def smtp_server():
    inbox = Inbox(unknown=("inconnu@example.org",))
    controller = start_server(inbox, free_port())
    yield f"smtp://127.0.0.1:{controller.port}", inbox
    controller.stop()


def queue(session, *recipients: str, subject_text: str = "Projet d'accueil refusé") -> None:
    mailer = Mailer(session, clock=lambda: NOW)
    for recipient in recipients:
        mailer.send(recipient, subject_text, "Bonjour,\n\nMotif : à revoir.", link="/dossiers/1")
    session.commit()


def test_queued_messages_are_sent_once(session, smtp_server):
    url, inbox = smtp_server
    queue(session, "referent.rennes@example.org")
    assert deliver_pending(session, SmtpTransport(url), SENDER, base_url="https://sc.example.org", now=NOW) == 1
    assert deliver_pending(session, SmtpTransport(url), SENDER, now=NOW) == 0
    (message,) = inbox.messages
    assert message["To"] == "referent.rennes@example.org" and subject(message) == "Projet d'accueil refusé"
    body = message.get_payload(decode=True).decode("utf-8")
    assert "Motif : à revoir." in body and "Pour y accéder : https://sc.example.org/dossiers/1" in body
    notification = session.scalar(select(Notification))
    assert notification.sent_at == NOW and notification.attempts == 1
    referent = session.scalar(select(Person).where(Person.login == "referent.rennes"))
    assert notification.person_id == referent.id, "a user also reads the message in the app"


def test_server_down_then_up_delivers_everything_once(session):
    port = free_port()
    transport = SmtpTransport(f"smtp://127.0.0.1:{port}")
    queue(session, "referent.rennes@example.org", "tuteur.rennes@example.org", "lea.martin@example.fr")

    assert deliver_pending(session, transport, SENDER, now=NOW) == 0
    waiting = session.scalars(select(Notification)).all()
    assert all(n.sent_at is None and n.error and n.attempts == 1 for n in waiting)
    assert {n.next_attempt_at for n in waiting} == {NOW + timedelta(minutes=1)}
    assert deliver_pending(session, transport, SENDER, now=NOW + timedelta(seconds=30)) == 0
    assert {n.attempts for n in session.scalars(select(Notification))} == {1}, "not retried before its time"

    inbox = Inbox()
    controller = start_server(inbox, port)
    try:
        assert deliver_pending(session, transport, SENDER, now=NOW + timedelta(minutes=2)) == 3
        assert deliver_pending(session, transport, SENDER, now=NOW + timedelta(hours=5)) == 0
    finally:
        controller.stop()
    assert sorted(m["To"] for m in inbox.messages) == ["lea.martin@example.fr", "referent.rennes@example.org",
                                                       "tuteur.rennes@example.org"]
    assert all(n.sent_at is not None and n.error is None for n in session.scalars(select(Notification)))


def test_retries_wait_longer_each_time(session):
    transport = SmtpTransport(f"smtp://127.0.0.1:{free_port()}")
    queue(session, "tuteur.rennes@example.org")
    moment = NOW
    delays = []
    for _ in range(5):
        deliver_pending(session, transport, SENDER, now=moment)
        notification = session.scalar(select(Notification))
        delays.append(notification.next_attempt_at - moment)
        moment = notification.next_attempt_at
    assert delays == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
                      timedelta(hours=2)]
    assert notification.attempts == 5 and notification.sent_at is None


def test_refused_recipient_is_not_tried_again(session, smtp_server):
    url, inbox = smtp_server
    queue(session, "inconnu@example.org", "tuteur.rennes@example.org")
    assert deliver_pending(session, SmtpTransport(url), SENDER, now=NOW) == 1
    refused = session.scalar(select(Notification).where(Notification.recipient == "inconnu@example.org"))
    assert refused.sent_at is None and refused.next_attempt_at is None and "550" in refused.error
    assert deliver_pending(session, SmtpTransport(url), SENDER, now=NOW + timedelta(days=1)) == 0
    assert [m["To"] for m in inbox.messages] == ["tuteur.rennes@example.org"]


def test_demo_writes_each_message_as_an_eml_file(session, tmp_path):
    queue(session, "referent.rennes@example.org", "gestionnaire.udogec35@example.org", subject_text="Invitation : FCC")
    assert deliver_pending(session, FolderTransport(tmp_path / "mails"), SENDER, now=NOW) == 2
    files = sorted((tmp_path / "mails").glob("*.eml"))
    assert len(files) == 2 and not list((tmp_path / "mails").glob("*.part"))
    messages = [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert {str(m["To"]) for m in messages} == {"referent.rennes@example.org", "gestionnaire.udogec35@example.org"}
    assert all(str(m["Subject"]) == "Invitation : FCC" for m in messages)


def test_the_worker_announces_new_tasks_by_mail(runtime, session, sessions, smtp_server, tmp_path):
    from test_processes import do, sample, start_project

    url, inbox = smtp_server
    instance = start_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    report = run_worker(sessions, tmp_path, NOW, session, SMTP_URL=url, BASE_URL="https://sc.example.org")
    assert report.tasks_announced == 1, "the design task was completed before any pass: only the review is new"
    (message,) = inbox.messages
    assert message["To"] == "gestionnaire.udogec35@example.org"
    assert subject(message) == "Nouvelle tâche : Instruire le projet d'accueil"
    body = message.get_payload(decode=True).decode("utf-8")
    assert body.startswith("Bonjour Nathalie,") and "Collège Saint-Joseph" in body
    assert "https://sc.example.org/taches/" in body
    assert run_worker(sessions, tmp_path, NOW, session, SMTP_URL=url).tasks_announced == 0
    assert len(inbox.messages) == 1


def test_project_decisions_are_sent_to_the_referents(runtime, session, sessions, smtp_server, tmp_path):
    from test_processes import do, sample, start_project

    url, inbox = smtp_server
    accepted = start_project(runtime, session)
    do(runtime, session, accepted.id, "referent.rennes", "design_project", sample("design_project"))
    do(runtime, session, accepted.id, "gestionnaire.udogec35", "review_project", sample("review_project"))
    sent_back = start_project(runtime, session, "brest")
    do(runtime, session, sent_back.id, "referent.brest", "design_project", sample("design_project"))
    do(runtime, session, sent_back.id, "gestionnaire.udogec29", "review_project",
       {"decision": "changes", "comment": "Précisez les horaires."})
    run_worker(sessions, tmp_path, NOW, session, SMTP_URL=url)
    decisions = {(m["To"], subject(m)) for m in inbox.messages if not subject(m).startswith("Nouvelle tâche")}
    assert decisions == {("referent.rennes@example.org", "Projet d'accueil accepté"),
                         ("referent.brest@example.org", "Projet d'accueil à modifier")}
    changes = next(m for m in inbox.messages if subject(m) == "Projet d'accueil à modifier")
    assert "Précisez les horaires." in changes.get_payload(decode=True).decode("utf-8")


def test_a_message_finds_its_recipients_account_and_a_sign_in_its_person_through_indexes(session):
    from query_plans import plans_of_statements_run_by

    from engine.directory.accounts import find_account

    def queue_a_message() -> None:
        Mailer(session).send("Anne.LeGoff@Example.org", "Objet", "Texte")
        session.flush()

    (insert,) = plans_of_statements_run_by(session, queue_a_message)
    assert "ix_person_email_lower" in insert and "SCAN person" not in insert
    # Signing in with an address: the login is looked for first, then the address, whatever their case.
    by_login, by_email = plans_of_statements_run_by(session, lambda: find_account(session, "Nobody@Example.org"))
    assert "ix_person_login_lower" in by_login and "SCAN person" not in by_login
    assert "ix_person_email_lower" in by_email and "SCAN person" not in by_email
