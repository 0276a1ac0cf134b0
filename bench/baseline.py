"""Figure 1: the campaign's processes run in memory by SpiffWorkflow alone, the floor of our costs.

No database, no web, no form validation: the parsed specs of `processes/`,
SpiffWorkflow's own script engine, and, for the service tasks, the results the
real handlers gave in one run through the engine (recorded beforehand on a
throwaway database). Every user task of the campaign is completed with the
same data as in figure 2.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

import handlers
from bench.engine_cost import Driver, campaign_run, without_pdf_rendering
from bench.measure import Figure, Latencies, fresh_database
from bench.workload import MAX_STEPS, campaign_samples, definition_files, prepare, reviewer_id, step_data
from engine.models import ProcessInstance
from engine.runtime.deployment import parse_bundle


class _Campaign:
    """Dates of a campaign like the demo's, without a database."""

    def __init__(self, first_year: int):
        self.earliest_start = date(first_year, 9, 1)
        self.submission_deadline = date(first_year, 5, 31)


class CannedServices(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment answering service tasks with recorded results."""

    def __init__(self, results: dict[str, dict]):
        super().__init__()
        self.results = results

    def call_service(self, context, operation_name, operation_params, **_ignored):
        """Return the recorded result of a handler, as JSON text like a real service."""
        return json.dumps(self.results.get(operation_name, {}))


def record_service_results(storage_dir: Path) -> tuple[dict[str, dict], dict, set[str]]:
    """Run one hosting project through the engine on a throwaway database; keep each handler's last result.

    Returns the results by handler name, the data the platform put in the instance at start, and the
    user tasks the engine went through (the in-memory runs stop where it stopped).
    """
    recorded: dict[str, dict] = {}

    def recording(name, handler):
        def call(context, **params):
            recorded[name] = handler(context, **params)
            return recorded[name]
        return call

    wrapped = {name: recording(name, handler) for name, handler in handlers.HANDLERS.items()}
    with fresh_database("sqlite") as url, mock.patch.dict(handlers.HANDLERS, wrapped), without_pdf_rendering():
        sessions = prepare(url)
        driver = Driver(sessions, storage_dir)
        with sessions() as session:
            reviewer = reviewer_id(session)
        run = campaign_run(driver, sessions, 1, 1998, reviewer)
        driver.counter.close()
        with sessions() as session:
            state = json.loads(session.get(ProcessInstance, run.instance_ids[0]).state)
        sessions.kw["bind"].dispose()
    root = state["tasks"][state["root"]]["data"]
    start = {key: root[key] for key in ("campaign", "establishment_id", "establishment") if key in root}
    return recorded, start, set(run.tasks)


def start_workflow(bundle, results: dict, start: dict) -> BpmnWorkflow:
    """A hosting project started in memory with the platform's start data, run to its first user task."""
    workflow = BpmnWorkflow(bundle.specs["hosting_project"], bundle.subprocess_specs["hosting_project"],
                            script_engine=PythonScriptEngine(environment=CannedServices(results)))
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(start)
    workflow.do_engine_steps()
    return workflow


def ready_user_steps(workflow: BpmnWorkflow, samples: dict, covered: set[str] | None) -> Iterator[tuple[Any, dict]]:
    """Each user task ready in turn, with the data the campaign submits for it; the caller completes it.

    Ends with the instance, at a task outside `covered`, or after `MAX_STEPS` tasks.
    """
    follow_ups = 0
    for _ in range(MAX_STEPS):
        task = None if workflow.completed else workflow.get_next_task(state=TaskState.READY, manual=True)
        if task is None or (covered is not None and task.task_spec.bpmn_id not in covered):
            return
        spec_id = task.task_spec.bpmn_id
        yield task, step_data(samples, spec_id, follow_ups)
        follow_ups += spec_id == "record_follow_up"


def run_instance(bundle, results: dict, start: dict, samples: dict, completions: Latencies,
                 covered: set[str] | None = None, cpu: Latencies | None = None) -> int:
    """Run one hosting project in memory to its end (or to a task outside `covered`); return its user tasks.

    `cpu` receives the processor time of each user task (the process's, unaffected by the others waiting).
    """
    workflow = start_workflow(bundle, results, start)
    done = 0
    for task, data in ready_user_steps(workflow, samples, covered):
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            task.task_spec.add_data_from_form(task, data)
            task.run()
            workflow.do_engine_steps()
        except SpiffWorkflowException:
            break  # the engine run ended in an incident here too: a handler the recorded results lack
        completions.add(time.perf_counter() - started)
        if cpu is not None:
            cpu.add(time.process_time() - started_cpu)
        done += 1
    return done


class Reference:
    """The parsed processes and the recorded service results, ready for in-memory runs."""

    def __init__(self, storage_dir: Path):
        self.bundle = parse_bundle(definition_files())
        self.results, self.start, self.covered = record_service_results(storage_dir)
        self.samples = campaign_samples(_Campaign(2027), 1)
        self.tasks = run_instance(self.bundle, self.results, self.start, self.samples, Latencies(), self.covered)

    def per_task(self, instances: int) -> tuple[float, float]:
        """Median cost of a user task over `instances` in-memory instances, in ms: elapsed and processor time."""
        completions, cpu = Latencies(), Latencies()
        for _ in range(instances):
            run_instance(self.bundle, self.results, self.start, self.samples, completions, self.covered, cpu)
        return completions.median_ms, cpu.median_ms


def measure(reference: Reference, instances: int, repeats: int) -> dict:
    """Figure 1 over `repeats` runs of `instances` hosting projects each."""
    rate = Figure("Instances complètes par seconde (en mémoire)", "instances/s")
    per_task = Figure("Coût d'une tâche utilisateur (compléter + étapes moteur), médiane", "ms")
    per_task_mean = Figure("Coût moyen par tâche utilisateur (instance entière / tâches)", "ms")
    tasks_per_instance = 0
    for _ in range(repeats):
        completions = Latencies()
        started = time.perf_counter()
        for _ in range(instances):
            tasks_per_instance = run_instance(reference.bundle, reference.results, reference.start,
                                              reference.samples, completions, reference.covered)
        elapsed = time.perf_counter() - started
        rate.runs.append(instances / elapsed)
        per_task.runs.append(completions.median_ms)
        per_task_mean.runs.append(elapsed * 1000 / (instances * tasks_per_instance))
    return {"figures": [rate, per_task, per_task_mean], "per_task_ms": per_task.median,
            "tasks_per_instance": tasks_per_instance, "instances": instances, "repeats": repeats}
