"""The daily synchronisation of the directory with Isidoor's export, run by the background worker.

Isidoor publishes its export (the JSON file described in docs/directory-import.md) as a file on a shared disk or
at an HTTPS address answering to a bearer token. Once a day, from `DIRECTORY_SYNC_HOUR` on, the first worker pass
imports it (`engine.directory.importing`) under the source « synchronisation », so that its report sits with the
others on the administration page. Process owners are warned by message when a run fails or when the export is
older than expected (Isidoor stopped producing it): the platform's choice lists then lag behind Isidoor.

With no source configured nothing runs: the tests and the demo import their files themselves.
"""
from __future__ import annotations

import logging
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from engine.directory.importing import import_directory
from engine.directory.records import ImportFileError, read_document
from engine.mail import Mailer
from engine.models import DirectoryImport, Person, RoleAssignment
from handlers.formats import date_fr

log = logging.getLogger(__name__)

SOURCE = "synchronisation"
# An export older than this when read means Isidoor no longer produces it every day.
MAX_EXPORT_AGE = timedelta(hours=36)
# Several workers may pass at the hour: one PostgreSQL advisory lock (any number fits) lets one of them run it.
_LOCK_KEY = 7_004_002_001
_REPORT_LINK = "/administration/annuaire"


class SyncFailed(Exception):
    """The export could not be read; the message says why, in French."""


@dataclass(frozen=True)
class SyncSettings:
    """Where the export is, how to ask for it, and at what hour the daily run starts."""

    source: str | None = None
    token: str | None = None
    hour: int = 3
    timeout: float = 60.0

    @classmethod
    def from_settings(cls, settings: Mapping) -> SyncSettings:
        """The synchronisation settings among the worker's (`DIRECTORY_SYNC_SOURCE`, `_TOKEN`, `_HOUR`)."""
        hour = settings.get("DIRECTORY_SYNC_HOUR")
        return cls(source=settings.get("DIRECTORY_SYNC_SOURCE") or None,
                   token=settings.get("DIRECTORY_SYNC_TOKEN") or None,
                   hour=3 if hour is None else int(hour))

    @property
    def enabled(self) -> bool:
        """Whether a source is configured."""
        return bool(self.source)


@dataclass(frozen=True)
class Export:
    """The export's content and the date it was produced (file date, or Last-Modified)."""

    content: bytes
    produced_at: datetime | None


def scheduled_run(now: datetime, hour: int) -> datetime:
    """The latest moment the daily run was due at or before `now`."""
    today = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if now >= today else today - timedelta(days=1)


def next_run(now: datetime, hour: int) -> datetime:
    """When the next daily run is due after `now`."""
    return scheduled_run(now, hour) + timedelta(days=1)


def next_run_phrase(now: datetime, hour: int) -> str:
    """When the next synchronisation happens, as pages say it: « cette nuit à 3 h », « demain à 14 h »."""
    due = next_run(now, hour)
    when = f"à {due.hour} h"
    if due.date() == now.date():
        return f"{'cette nuit' if due.hour < 6 else 'aujourd’hui'} {when}"
    if due.date() == (now + timedelta(days=1)).date():
        return f"{'cette nuit' if due.hour < 6 and now.hour >= 18 else 'demain'} {when}"
    return f"le {date_fr(due.date())} {when}"


def read_export(settings: SyncSettings) -> Export:
    """The export's bytes and production date; raise `SyncFailed` when it cannot be read."""
    source = settings.source or ""
    if source.startswith("https://"):
        return _download(source, settings.token, settings.timeout)
    if "://" in source:
        raise SyncFailed("L'adresse de l'export doit commencer par https:// (ou être un chemin de fichier).")
    path = Path(source)
    try:
        return Export(path.read_bytes(), datetime.fromtimestamp(path.stat().st_mtime))
    except OSError as error:
        raise SyncFailed(f"Le fichier {source} ne peut pas être lu : {error.strerror or error}.") from None


def _download(url: str, token: str | None, timeout: float) -> Export:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https only, checked above)
            content = response.read()
            modified = response.headers.get("Last-Modified")
    except OSError as error:  # URLError, HTTPError and timeouts are all OSError
        raise SyncFailed(f"L'export n'a pas pu être téléchargé ({error}).") from None
    produced = None
    if modified:
        try:
            # The header is in UTC; the platform's dates are local and naive.
            produced = parsedate_to_datetime(modified).astimezone().replace(tzinfo=None)
        except (TypeError, ValueError):
            produced = None
    return Export(content, produced)


def last_run(session: Session) -> DirectoryImport | None:
    """The latest synchronisation recorded, successful or not."""
    return session.scalar(select(DirectoryImport).where(DirectoryImport.source == SOURCE)
                          .order_by(DirectoryImport.started_at.desc(), DirectoryImport.id.desc()).limit(1))


def is_due(session: Session, settings: SyncSettings, now: datetime) -> bool:
    """Whether today's run is due and not done yet (a worker started late catches up at once)."""
    if not settings.enabled:
        return False
    latest = last_run(session)
    return latest is None or latest.started_at < scheduled_run(now, settings.hour)


def synchronise_if_due(session: Session, settings: SyncSettings, now: datetime) -> DirectoryImport | None:
    """Run the day's synchronisation when it is due and no other worker is running it; return its record."""
    if not is_due(session, settings, now):
        return None
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return synchronise(session, settings, now)
    # The lock lives on its own connection, held while the import commits in batches on the session's.
    with bind.engine.connect() as lock:
        if not lock.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": _LOCK_KEY}):
            return None
        try:
            session.expire_all()
            return synchronise(session, settings, now) if is_due(session, settings, now) else None
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
            lock.commit()


def synchronise(session: Session, settings: SyncSettings, now: datetime) -> DirectoryImport:
    """Import the export now, record the run, and warn process owners of a failure or a stale export. Commits."""
    try:
        export = read_export(settings)
        document = read_document(export.content)
    except (SyncFailed, ImportFileError) as error:
        record = _failed(session, now, str(error))
        _warn(session, now, "Synchronisation de l'annuaire en échec",
              f"La synchronisation de l'annuaire avec l'export d'Isidoor a échoué le {_moment(now)} : {error}\n\n"
              "Les listes de choix de la plateforme (tuteurs, référents, établissements) ne reçoivent plus les "
              "changements faits dans Isidoor. La prochaine tentative aura lieu "
              f"{next_run_phrase(now, settings.hour)}.", record.id)
        return record
    try:
        _, record = import_directory(session, document, source=SOURCE, now=now)
    except Exception as error:  # a database failure: the run is recorded as failed, and tried again tomorrow
        log.exception("Synchronisation de l'annuaire interrompue")
        session.rollback()
        record = _failed(session, now, f"Import interrompu : {type(error).__name__}.")
        _warn(session, now, "Synchronisation de l'annuaire en échec",
              f"L'import de l'export d'Isidoor a été interrompu le {_moment(now)} ; les journaux du serveur "
              "en disent la cause.", record.id)
        return record
    if export.produced_at is not None and now - export.produced_at > MAX_EXPORT_AGE:
        hours = int((now - export.produced_at).total_seconds() // 3600)
        _warn(session, now, "Export de l'annuaire ancien",
              f"L'export d'Isidoor importé le {_moment(now)} date du {_moment(export.produced_at)}, il y a "
              f"{hours} heures : Isidoor ne le produit plus chaque jour. Les changements faits dans Isidoor depuis "
              "n'arrivent pas sur la plateforme ; signalez-le au support Isidoor (support@isidoor.org).", record.id)
    log.info("Annuaire synchronisé (import %s)", record.id)
    return record


def _moment(when: datetime) -> str:
    return f"{date_fr(when.date())} à {when.hour} h {when.minute:02d}"


def _failed(session: Session, now: datetime, message: str) -> DirectoryImport:
    record = DirectoryImport(source=SOURCE, actor_id=None, started_at=now, finished_at=now, counts={}, entries=[],
                             file_error=message[:500])
    session.add(record)
    session.commit()
    log.warning("Synchronisation de l'annuaire en échec : %s", message)
    return record


def _warn(session: Session, now: datetime, subject: str, body: str, import_id: int) -> None:
    """Queue a message to every active process owner with an address, linking to the run's report."""
    owners = session.scalars(select(Person.email).join(RoleAssignment, RoleAssignment.person_id == Person.id)
                             .where(RoleAssignment.role == "process_owner", Person.active.is_(True),
                                    Person.email.is_not(None)).distinct())
    mailer = Mailer(session, clock=lambda: now)
    for email in owners:
        mailer.send(str(email), subject, f"Bonjour,\n\n{body}\n\nLe rapport de cette synchronisation est sur la page "
                                    "Administration › Annuaire de la plateforme.",
                    link=f"{_REPORT_LINK}/{import_id}")
    session.commit()
