"""A directory import uploaded on the admin page, run beside the page that shows its progress.

The import runs in its own thread with its own database session, so that it
goes on to the end even if the person closes the page; the page is streamed
and iterates over the progress the import reports. Nothing is kept in the
process once the import ends: its report is in the database
(`DirectoryImport`), as for the command line.
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator

from sqlalchemy.orm import sessionmaker

from engine.directory.import_report import ImportReport
from engine.directory.importing import import_directory, record_file_error

log = logging.getLogger(__name__)
_DONE = object()


class BackgroundImport:
    """An import of a directory document in a thread; iterate over it for its progress until it ends."""

    def __init__(self, sessions: sessionmaker, document: dict, source: str, actor_id: int | None):
        self.sessions = sessions
        self.document = document
        self.source = source
        self.actor_id = actor_id
        self.report: ImportReport | None = None
        self.record_id: int | None = None
        self.error: str | None = None
        self._steps: queue.Queue = queue.Queue()
        # Not a daemon: a worker that stops waits for the import instead of leaving it half done.
        self._thread = threading.Thread(target=self._run, name="directory-import", daemon=False)

    def start(self) -> BackgroundImport:
        """Start the import; return self."""
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            with self.sessions() as session:
                self.report, record = import_directory(session, self.document, source=self.source,
                                                       actor_id=self.actor_id, progress=self._progress)
                self.record_id = record.id
        except Exception as error:  # noqa: BLE001 - whatever stopped it, the page must say so and the log keep it
            log.exception("Import de l'annuaire %s interrompu", self.source)
            self.error = (f"L'import s'est arrêté ({type(error).__name__}). Les lots déjà enregistrés sont "
                          "conservés : importez de nouveau le même fichier pour terminer, rien ne sera créé "
                          "en double.")
            self._record_failure(self.error)
        finally:
            self._steps.put(_DONE)

    def _record_failure(self, message: str) -> None:
        try:
            with self.sessions() as session:
                self.record_id = record_file_error(session, self.source, self.actor_id, message).id
        except Exception:  # noqa: BLE001 - the database itself may be what failed; the log has the cause
            log.exception("Impossible d'enregistrer l'échec de l'import %s", self.source)

    def _progress(self, done: int, total: int) -> None:
        self._steps.put((done, total))

    def __iter__(self) -> Iterator[dict]:
        """Each progress step (records read, total, percent) until the import ends."""
        while (step := self._steps.get()) is not _DONE:
            done, total = step
            yield {"done": done, "total": total, "percent": done * 100 // total if total else 100}
