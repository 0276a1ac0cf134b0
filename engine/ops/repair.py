"""Repairing dossiers whose loop or multi-instance task waits on paths that already ended.

Before multi-instance tasks were linked to their instances when a deployment is parsed
(`engine.runtime.spiff_internals.link_loop_children`), a volunteer path that ended in another process than the
one that opened it (another web worker, the same one restarted) was never merged: its hosting project stayed
« En cours » with nothing left to do. `flask --app webapp db check` reports such dossiers; `flask --app webapp
db repair` merges their ended paths and runs them on, each in its own transaction, with an audit event.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from engine.errors import Refusal
from engine.models import ProcessInstance
from engine.models.runtime import FINISHED_STATUSES
from engine.ops.consistency import stored_workflows
from engine.progress import Progress
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings
from engine.runtime.spiff_internals import unmerged_instances


@dataclass
class RepairReport:
    """What a repair found and did, by dossier."""

    # Unfinished dossiers whose engine state was read.
    examined: int = 0
    # Dossier id → ended paths merged.
    rejoined: dict[int, int] = field(default_factory=dict)
    # Dossier id → why it was left as it is (suspended, changed meanwhile…), in French.
    refused: dict[int, str] = field(default_factory=dict)


def waiting_on_ended_paths(session: Session, batch: int = 100,
                           progress: Progress | None = None) -> tuple[list[int], int]:
    """Ids of the unfinished dossiers with ended paths no loop task merged, and how many dossiers were read.

    A state that cannot be read is left out: `flask --app webapp db check` reports it. `progress` hears how many
    dossiers are read (see `stored_workflows`).
    """
    found: list[int] = []
    examined = 0
    for instance, workflow in stored_workflows(session, ProcessInstance.status.not_in(FINISHED_STATUSES), batch=batch,
                                               progress=progress):
        examined += 1
        if not isinstance(workflow, Exception) and unmerged_instances(workflow):
            found.append(instance.id)
    return found, examined


def rejoin_ended_paths(sessions: sessionmaker, settings: RuntimeSettings,
                       told: Callable[[int, int | str], None] | None = None,
                       reading: Progress | None = None) -> RepairReport:
    """Merge the ended paths of every dossier waiting on them, one transaction per dossier.

    `told` hears of each dossier once done: its id, and the paths merged or the French reason it was left;
    `reading`, how many unfinished dossiers were read while looking for them.
    """
    report = RepairReport()
    with sessions() as session:
        candidates, report.examined = waiting_on_ended_paths(session, progress=reading)
    for instance_id in candidates:
        with sessions() as session:
            instance = session.get(ProcessInstance, instance_id)
            if instance is None:
                continue
            outcome: int | str
            try:
                outcome = report.rejoined[instance_id] = ProcessRuntime(session, settings).rejoin_ended_paths(
                    instance, None)
            except Refusal as refused:
                outcome = report.refused[instance_id] = str(refused)
        if told is not None:
            told(instance_id, outcome)
    return report
