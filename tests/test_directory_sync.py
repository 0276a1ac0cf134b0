"""The daily synchronisation of the directory: when it runs, what it records, whom it warns."""
from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from engine.directory import sync
from engine.directory.sync import (
    SOURCE,
    SyncFailed,
    SyncSettings,
    is_due,
    next_run_phrase,
    read_export,
    synchronise,
)
from engine.models import DirectoryImport, Notification, Person, Structure

from follow_up_support import run_worker

NOW = datetime(2027, 11, 16, 3, 0)
DOCUMENT = {"version": 1, "structures": [
    {"code": "UDOGEC-44", "kind": "udogec", "name": "Udogec de Loire-Atlantique", "departments": ["44"]}]}


def export_file(tmp_path, produced: datetime, content: bytes | None = None):
    """An export file dated `produced`."""
    path = tmp_path / "annuaire.json"
    path.write_bytes(content if content is not None else json.dumps(DOCUMENT).encode())
    os.utime(path, (produced.timestamp(), produced.timestamp()))
    return path


def runs(session) -> list[DirectoryImport]:
    """Synchronisations recorded, oldest first."""
    return list(session.scalars(select(DirectoryImport).where(DirectoryImport.source == SOURCE)
                                .order_by(DirectoryImport.id)))


def warnings(session) -> list[Notification]:
    """Messages queued for the process owner."""
    owner = session.scalar(select(Person.email).where(Person.login == "pilote"))
    return list(session.scalars(select(Notification).where(Notification.recipient == owner)
                                .order_by(Notification.id)))


@pytest.mark.parametrize(("clock", "due"), [
    (datetime(2027, 11, 16, 2, 59), False),  # yesterday's run is done; today's not due yet
    (datetime(2027, 11, 16, 3, 0), True),
    (datetime(2027, 11, 16, 17, 0), True),  # a worker started late catches up
])
def test_the_run_is_due_from_the_hour_once_a_day(session, clock, due):
    settings = SyncSettings(source="/nulle/part.json", hour=3)
    session.add(DirectoryImport(source=SOURCE, started_at=datetime(2027, 11, 15, 3, 0),
                                finished_at=datetime(2027, 11, 15, 3, 1), counts={}, entries=[]))
    session.flush()
    assert is_due(session, settings, clock) is due
    assert not is_due(session, SyncSettings(source=None), clock)


def test_the_worker_imports_the_export_once_a_day_and_keeps_the_report(sessions, session, tmp_path):
    path = export_file(tmp_path, NOW - timedelta(hours=2))
    settings = {"DIRECTORY_SYNC_SOURCE": str(path), "DIRECTORY_SYNC_HOUR": 3}
    passes = [NOW - timedelta(minutes=10), NOW - timedelta(minutes=1), NOW, NOW + timedelta(hours=14),
              NOW + timedelta(days=1)]
    done = [run_worker(sessions, tmp_path, when, session, **settings).directory_synchronised for when in passes]
    # Never run before: the first pass catches up at once; then once from 3 h each day.
    assert done == [True, False, True, False, True]
    first = runs(session)[0]
    assert (first.started_at, first.file_error, first.counts["structure"]) == (passes[0], None, {"created": 1})
    assert [run.counts["structure"] for run in runs(session)[1:]] == [{"unchanged": 1}, {"unchanged": 1}]
    assert session.scalar(select(Structure.name).where(Structure.code == "UDOGEC-44")) == "Udogec de Loire-Atlantique"
    assert warnings(session) == []


def test_without_a_source_the_worker_never_synchronises(sessions, session, tmp_path):
    assert run_worker(sessions, tmp_path, NOW, session).directory_synchronised is False
    assert runs(session) == []


@pytest.mark.parametrize(("age", "warned"), [(timedelta(hours=36), False), (timedelta(hours=36, minutes=1), True)])
def test_an_export_older_than_36_hours_is_imported_and_reported(session, tmp_path, age, warned):
    path = export_file(tmp_path, NOW - age)
    record = synchronise(session, SyncSettings(source=str(path)), NOW)
    assert record.file_error is None
    messages = warnings(session)
    assert bool(messages) is warned
    if warned:
        (message,) = messages
        assert message.subject == "Export de l'annuaire ancien"
        assert "il y a 36 heures : Isidoor ne le produit plus chaque jour" in message.body
        assert message.link == f"/administration/annuaire/{record.id}"


@pytest.mark.parametrize(("content", "cause"), [
    (None, "ne peut pas être lu"),
    (b"{pas du json", "n'est pas un JSON valide"),
])
def test_a_failed_run_is_recorded_and_the_process_owners_warned(session, tmp_path, content, cause):
    path = tmp_path / "absent.json" if content is None else export_file(tmp_path, NOW, content)
    record = synchronise(session, SyncSettings(source=str(path)), NOW)
    assert cause in record.file_error and record.source == "synchronisation"
    (message,) = warnings(session)
    assert message.subject == "Synchronisation de l'annuaire en échec"
    assert cause in message.body and "La prochaine tentative aura lieu cette nuit à 3 h." not in message.body
    assert "La prochaine tentative aura lieu demain à 3 h." in message.body


class _Export(BaseHTTPRequestHandler):
    """Isidoor's export address: the document for the right bearer token, 401 otherwise."""

    produced = NOW

    def do_GET(self):  # noqa: N802 (the standard library's name)
        if self.headers.get("Authorization") != "Bearer secret":
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps(DOCUMENT).encode()
        self.send_response(200)
        self.send_header("Last-Modified", format_datetime(self.produced.astimezone(), usegmt=True))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Keep the test output quiet."""


@pytest.fixture
def export_server():
    """A local HTTP server standing for the export address; yields its base URL."""
    server = HTTPServer(("127.0.0.1", 0), _Export)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_an_address_is_read_with_its_token_and_its_date(export_server):
    # The local server speaks plain HTTP, which `read_export` refuses (next test): the download is tested alone.
    export = sync._download(f"{export_server}/annuaire.json", "secret", 5)
    assert json.loads(export.content) == DOCUMENT and export.produced_at == NOW
    with pytest.raises(SyncFailed, match="n'a pas pu être téléchargé"):
        sync._download(f"{export_server}/annuaire.json", "faux", 5)


def test_only_https_addresses_are_read():
    with pytest.raises(SyncFailed, match="doit commencer par https://"):
        read_export(SyncSettings(source="http://isidoor.example.org/annuaire.json"))


@pytest.mark.parametrize(("clock", "phrase"), [
    (datetime(2027, 11, 16, 1, 0), "cette nuit à 3 h"),
    (datetime(2027, 11, 16, 10, 0), "demain à 3 h"),
    (datetime(2027, 11, 16, 22, 0), "cette nuit à 3 h"),
])
def test_pages_can_say_when_the_next_run_is(clock, phrase):
    assert next_run_phrase(clock, 3) == phrase


def test_pages_say_when_the_directory_is_next_read(database_url, tmp_path):
    from webapp import create_app
    from webapp.establishments import next_synchronisation

    base = {"TESTING": True, "DATABASE_URL": database_url, "STORAGE_DIR": tmp_path, "SECRET_KEY": "essai"}
    manual = create_app(base)
    with manual.test_request_context():
        assert "quand un responsable de processus importe" in next_synchronisation()
    nightly = create_app({**base, "DIRECTORY_SYNC_SOURCE": str(tmp_path / "export.json"), "DIRECTORY_SYNC_HOUR": 3,
                          "CLOCK": lambda: datetime(2027, 3, 15, 10, 0)})
    with nightly.test_request_context():
        assert next_synchronisation() == "Prochaine synchronisation de l'annuaire : demain à 3 h."
    for app in (manual, nightly):
        app.extensions["db_engine"].dispose()
