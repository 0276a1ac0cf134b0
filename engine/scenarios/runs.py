"""Scenario runs started from the browser: a `scenario_run` row, played by a thread, read by any web worker.

Played inside a web request, the scenarios took 8 s on a quiet machine and up to 50 s on a loaded one, close
to gunicorn's timeout. The request only records the run (`start_run`) and starts a thread (`play_in_background`)
that plays the scenarios with its own session and writes, before each one, which is in progress and how many
are done; the page polls the row, so it may be served by any worker. The result is kept in the row: each
outcome and, for the coverage page, what the scenarios exercised (rebuilt into a report by `coverage_of`).
A run whose thread died with its worker stops being updated: after `STALE_AFTER` it reads as interrupted.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from engine.models import Deployment, StagedDeployment
from engine.models.scenario_run import ScenarioRun
from engine.runtime.staging import candidate_files
from engine.scenarios import Outcome, run_scenarios
from engine.scenarios.coverage import CoverageReport, ScenarioCoverage

log = logging.getLogger(__name__)
# A scenario takes seconds; a run silent for this long lost its thread (its worker stopped or was killed).
STALE_AFTER = timedelta(minutes=5)
THREAD_PREFIX = "scenario-run-"


def start_run(session: Session, *, deployment: Deployment | None, staged: StagedDeployment | None, scenario: str,
              coverage: bool, actor_id: int | None, now: datetime, first: int = 0,
              processes: list[str] | None = None) -> ScenarioRun:
    """Record a run of the scenarios (one file, or all when `scenario` is empty) on an upload or a version; commit.

    `first` scenarios, those of the changed `processes` (their labels), are played before the others."""
    run = ScenarioRun(deployment_id=deployment.id if deployment is not None and staged is None else None,
                      staged_deployment_id=staged.id if staged is not None else None, scenario=scenario,
                      coverage=coverage, status="running", total=0, done=0, created_at=now, updated_at=now,
                      created_by_id=actor_id, result={"first": first, "processes": processes or [], "outcomes": []})
    session.add(run)
    session.commit()
    return run


def run_files(session: Session, run: ScenarioRun) -> dict[str, str]:
    """The definition files a run plays on: the upload's candidate version, or the deployed version's files."""
    if run.staged_deployment_id is not None:
        staged = session.get(StagedDeployment, run.staged_deployment_id)
        return candidate_files(session, staged) if staged is not None else {}
    deployment = session.get(Deployment, run.deployment_id) if run.deployment_id is not None else None
    return dict(deployment.files) if deployment is not None else {}


def play_in_background(sessions: sessionmaker, run_id: int, paths: list[Path],
                       clock: Callable[[], datetime] = datetime.now) -> threading.Thread:
    """Start the thread that plays a recorded run; return it (tests join it)."""
    # Not a daemon: a worker that stops lets the run end instead of leaving it half written.
    thread = threading.Thread(target=play_run, args=(sessions, run_id, paths, clock), daemon=False,
                              name=f"{THREAD_PREFIX}{run_id}")
    thread.start()
    return thread


def play_run(sessions: sessionmaker, run_id: int, paths: list[Path], clock: Callable[[], datetime]) -> None:
    """Play the scenarios of a recorded run, writing its progress before each one and its result at the end."""
    with sessions() as session:
        run = session.get(ScenarioRun, run_id)
        if run is None:
            return
        try:
            with _without_scenario_logs():
                run.result, run.status = _play(session, run, paths, clock), "done"
        except Exception as error:  # noqa: BLE001 - whatever stopped the run, its page must say so; the log keeps it
            log.exception("Scénarios interrompus (exécution %s)", run_id)
            session.rollback()
            run.result = {**(run.result or {}),
                      "error": f"Les scénarios se sont arrêtés sur une erreur inattendue ({type(error).__name__})."}
            run.status = "failed"
        run.current, run.updated_at = None, clock()
        session.commit()


def _play(session: Session, run: ScenarioRun, paths: list[Path], clock: Callable[[], datetime]) -> dict:
    """Play the run's scenarios, committing its progress as they go; return its result."""
    files = run_files(session, run)
    recorder = ScenarioCoverage(files) if run.coverage else None
    run.total, run.updated_at = len(paths), clock()
    session.commit()

    def starting(path: Path) -> None:
        run.current, run.updated_at = path.name, clock()
        session.commit()

    def reporter(outcome: Outcome) -> None:
        # Each outcome is kept as it comes: the editor lists the first ones while the others play.
        played = [*(run.result or {}).get("outcomes", []), _outcome_json(outcome)]
        run.result = {**(run.result or {}), "outcomes": played}
        run.done, run.updated_at = run.done + 1, clock()
        session.commit()

    outcomes = run_scenarios(paths, files, reporter=reporter, coverage=recorder, starting=starting)
    return {**(run.result or {}), "outcomes": [_outcome_json(outcome) for outcome in outcomes],
            "seen": [list(key) for key in recorder.seen] if recorder is not None else None}


def _outcome_json(outcome: Outcome) -> dict:
    """One outcome as the run keeps it."""
    return {"name": outcome.name, "file": outcome.path.name, "passed": outcome.passed,
            "explanation": outcome.explanation}


@dataclass
class RunView:
    """What a page or the editor shows of a run: where it stands, then its outcomes."""

    run: ScenarioRun
    status: str
    message: str
    outcomes: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> int:
        """How many scenarios passed."""
        return sum(1 for outcome in self.outcomes if outcome["passed"])

    @property
    def failed(self) -> list[dict]:
        """The outcomes of the scenarios that failed."""
        return [outcome for outcome in self.outcomes if not outcome["passed"]]

    @property
    def first(self) -> int:
        """How many scenarios, played first, are those of the processes the upload changed."""
        return int((self.run.result or {}).get("first", 0))

    @property
    def processes(self) -> list[str]:
        """The labels of the processes the upload changed."""
        return list((self.run.result or {}).get("processes", []))

    def as_json(self) -> dict:
        """The run for the editor's polling script (the outcomes so far while it runs)."""
        return {"id": self.run.id, "status": self.status, "message": self.message, "done": self.run.done,
                "total": self.run.total, "passed": self.passed, "outcomes": self.outcomes, "first": self.first,
                "processes": self.processes}


def view_of(run: ScenarioRun, now: datetime) -> RunView:
    """Where a run stands, in French: « Scénario 7 sur 18 : … », its result, or why it stopped."""
    if run.status == "running" and now - run.updated_at > STALE_AFTER:
        return RunView(run, "failed", "Les scénarios se sont arrêtés sans finir (le serveur a sans doute "
                                      "redémarré) : relancez-les.")
    result = run.result or {}
    if run.status == "running":
        so_far = list(result.get("outcomes", []))
        if run.current is None:
            return RunView(run, "running", "Préparation de la copie jetable de la plateforme…", so_far)
        first = int(result.get("first", 0))
        concerned = (f" (d'abord ceux des processus modifiés : {', '.join(result.get('processes', []))})"
                     if run.done < first else "")
        return RunView(run, "running", f"Scénario {run.done + 1} sur {run.total}{concerned} : {run.current}…", so_far)
    if run.status == "failed":
        return RunView(run, "failed", result.get("error", "Les scénarios se sont arrêtés sans finir."))
    outcomes = list(result.get("outcomes", []))
    count, failed = len(outcomes), sum(1 for outcome in outcomes if not outcome["passed"])
    return RunView(run, "done", f"{count} scénario{'s' if count > 1 else ''} joué{'s' if count > 1 else ''}, "
                                f"{failed} en échec.", outcomes)


def coverage_of(run: ScenarioRun, files: dict[str, str]) -> CoverageReport | None:
    """The coverage report of a finished run that recorded it, rebuilt on the files it played on."""
    seen = (run.result or {}).get("seen")
    if run.status != "done" or seen is None:
        return None
    recorder = ScenarioCoverage(files)
    recorder.seen = {tuple(key) for key in seen}
    return recorder.report()


class _OtherThreads(logging.Filter):
    """Lets through the records of every thread but the one that created it."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether the record comes from another thread."""
        return record.thread != self.thread


@contextmanager
def _without_scenario_logs() -> Iterator[None]:
    """Keep the throwaway platform's migrations and task completions out of the log: they would read as changes
    of real dossiers. Other threads' lines (the web requests) go on being written."""
    muted, handlers = _OtherThreads(), list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(muted)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(muted)
