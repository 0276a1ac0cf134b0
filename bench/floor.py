"""Figure 2, floor: the least a durable completion costs on SQLite, against the same in-memory step.

Each user task of figure 1's in-memory campaign is completed as there (SpiffWorkflow alone, recorded
handler results), then made durable the least way the platform's tables allow, with the `sqlite3` module
and no other layer: the task row read with its instance, the state's changes serialised in the platform's
delta format (engine/runtime/serialization.py), and one transaction writing the instance row on its
version, the delta line, the task leaving and those arriving, and the audit event, on the migrated
schema with all its indexes. No ORM, no SQLAlchemy, no form validation, no handler: what is left of a
completion when everything the platform adds to SpiffWorkflow costs nothing but its writes.

The in-memory step is timed inside the same loop, so that the ratio compares costs measured in the same
conditions.
"""
from __future__ import annotations

import json
import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime

from bench.baseline import Reference, ready_user_steps, start_workflow
from bench.measure import Figure
from bench.workload import prepare
from engine.runtime.due_dates import due_date
from engine.runtime.serialization import signatures
from engine.runtime.tasks import ready_user_tasks, task_lane, task_structure, task_title

PROCESS = "hosting_project"
# The task with the other ready tasks of its instance, the instance, its establishment and its campaign, as the
# platform reads them (engine/runtime/store.py, READY_SIBLINGS).
READ_TASK = ("SELECT t.*, i.*, e.*, c.* FROM task t JOIN process_instance i ON i.id = t.instance_id "
             "LEFT JOIN establishment e ON e.id = i.establishment_id LEFT JOIN campaign c ON c.school_year = i.campaign "
             "WHERE t.instance_id = (SELECT instance_id FROM task WHERE id = ?) AND t.state = 'ready'")
ADD_INSTANCE = ("INSERT INTO process_instance (deployment_id, process_id, title, department, status, created_at, "
                "updated_at, version) VALUES (?, ?, ?, '35', 'running', ?, ?, 1) RETURNING id")
WRITE_INSTANCE = ("UPDATE process_instance SET status = 'running', updated_at = ?, current_step = ?, version = ? "
                  "WHERE id = ? AND version = ?")
ADD_STATE = "INSERT INTO instance_state (instance_id, state) VALUES (?, ?)"
APPEND_STATE = "INSERT INTO instance_state_change (instance_id, version, line) VALUES (?, ?, ?)"
FINISH_TASK = ("UPDATE task SET state = 'completed', completed_at = ?, completed_by_id = NULL, draft_saved_at = NULL "
               "WHERE id = ?")
ADD_TASK = ("INSERT INTO task (id, instance_id, process_id, spec_id, title, lane, department, structure_code, state, "
            "created_at, due_at) VALUES (?, ?, ?, ?, ?, ?, '35', ?, 'ready', ?, ?)")
ADD_EVENT = ("INSERT INTO audit_event (instance_id, task_id, spec_id, kind, summary, data, at) "
             "VALUES (?, ?, ?, 'completed', ?, ?, ?)")


@dataclass(frozen=True)
class TaskFloor:
    """One task type's median durable floor and the median of its in-memory step inside it, in ms."""

    floor_ms: float
    step_ms: float


@dataclass
class FloorRun:
    """Durations of each completion's parts, in seconds."""

    steps: list[float] = field(default_factory=list)
    completions: list[float] = field(default_factory=list)
    changes: list[float] = field(default_factory=list)
    statements: list[float] = field(default_factory=list)
    # Each completion's duration and its in-memory step's, by task type (spec id).
    by_task: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


class _Instance:
    """One in-memory hosting project and the rows that stand for it."""

    def __init__(self, reference: Reference, database: sqlite3.Connection, deployment_id: int, number: int):
        self.reference, self.database = reference, database
        self.serializer = reference.bundle.serializers[PROCESS]
        self.workflow = start_workflow(reference.bundle, reference.results, reference.start)
        now = _now()
        database.execute("BEGIN")
        self.id = database.execute(ADD_INSTANCE, (deployment_id, PROCESS, f"Projet d'accueil {number}", now,
                                                  now)).fetchone()[0]
        database.execute(ADD_STATE, (self.id, self.serializer.dumps(self.workflow)))
        self.signatures = signatures(self.workflow)
        self.version = 1
        self.ready = ready_user_tasks(self.workflow)
        self._add_tasks(self.ready, now)
        database.execute("COMMIT")

    def _add_tasks(self, tasks: dict, now: str) -> None:
        for task_id, task in tasks.items():
            due = due_date(task.task_spec, datetime.fromisoformat(now), task.data)
            self.database.execute(ADD_TASK, (task_id, self.id, PROCESS, task.task_spec.bpmn_id, task_title(task),
                                             task_lane(self.reference.bundle, task), task_structure(task), now,
                                             due.isoformat(" ") if due is not None else None))

    def complete_all(self, run: FloorRun | None) -> None:
        """Complete each ready user task with the campaign's data, durably, to the end of what was recorded."""
        for task, data in ready_user_steps(self.workflow, self.reference.samples, self.reference.covered):
            started = time.perf_counter()
            self.database.execute(READ_TASK, (str(task.id),)).fetchall()
            read = time.perf_counter()
            task.task_spec.add_data_from_form(task, data)
            task.run()
            self.workflow.do_engine_steps()
            stepped = time.perf_counter()
            line, self.signatures = self.serializer.changes(self.workflow, self.signatures)
            serialised = time.perf_counter()
            self._write(task, data, line)
            ended = time.perf_counter()
            if run is not None:
                run.steps.append(stepped - read)
                run.changes.append(serialised - stepped)
                run.statements.append(read - started + ended - serialised)
                run.completions.append(ended - started)
                run.by_task.setdefault(task.task_spec.bpmn_id, []).append((ended - started, stepped - read))

    def _write(self, task, data: dict, line: str) -> None:
        now = _now()
        ready = ready_user_tasks(self.workflow)
        database = self.database
        database.execute("BEGIN")
        step = ", ".join(task_title(waiting) for waiting in ready.values())[:500] or None
        if database.execute(WRITE_INSTANCE, (now, step, self.version + 1, self.id, self.version)).rowcount != 1:
            raise RuntimeError("version de l'instance inattendue")
        self.version += 1
        database.execute(APPEND_STATE, (self.id, self.version, line))
        database.execute(FINISH_TASK, (now, str(task.id)))
        self._add_tasks({task_id: waiting for task_id, waiting in ready.items() if task_id not in self.ready}, now)
        self.ready = ready
        database.execute(ADD_EVENT, (self.id, str(task.id), task.task_spec.bpmn_id, task_title(task), json.dumps(data), now))
        database.execute("COMMIT")


def _now() -> str:
    return datetime.now().isoformat(" ")


def measure_floor(url: str, reference: Reference, instances: int, repeats: int) -> dict:
    """The floor's figures over `repeats` runs of `instances` hosting projects, on a migrated SQLite database."""
    prepare(url).kw["bind"].dispose()
    database = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        # The platform's own settings for SQLite (engine/db.py).
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL"):
            database.execute(f"PRAGMA {pragma}")
        deployment_id = database.execute("SELECT max(id) FROM deployment").fetchone()[0]
        _Instance(reference, database, deployment_id, 0).complete_all(None)  # warm-up
        floor = Figure("Plancher : étape en mémoire + différences + écritures SQL brutes, médiane", "ms")
        step = Figure("Plancher : dont l'étape SpiffWorkflow (mêmes complétions), médiane", "ms")
        changes = Figure("Plancher : dont la sérialisation des différences, médiane", "ms")
        statements = Figure("Plancher : dont la lecture, les écritures et la validation de la transaction, médiane",
                            "ms")
        ratio = Figure("Rapport du plancher à l'étape en mémoire (médianes)", "×")
        by_task: dict[str, list[tuple[float, float]]] = {}
        for repeat in range(repeats):
            run = FloorRun()
            for number in range(instances):
                _Instance(reference, database, deployment_id, (repeat + 1) * 1000 + number).complete_all(run)
            for figure, values in ((floor, run.completions), (step, run.steps), (changes, run.changes),
                                   (statements, run.statements)):
                figure.runs.append(statistics.median(values) * 1000)
            ratio.runs.append(statistics.median(run.completions) / statistics.median(run.steps))
            for spec_id, durations in run.by_task.items():
                by_task.setdefault(spec_id, []).extend(durations)
        return {"figures": [floor, step, changes, statements, ratio], "completions": len(run.completions),
                "by_task": {spec_id: TaskFloor(statistics.median(total for total, _step in durations) * 1000,
                                               statistics.median(step for _total, step in durations) * 1000)
                            for spec_id, durations in by_task.items()}}
    finally:
        database.close()
