"""Figures 2 and 3: completing user tasks through `engine.runtime.runtime.ProcessRuntime`, on a real database.

Each completion is what a request does, in its own session: load the task row
and the instance, check role and scope, validate the form, complete the task,
run the engine steps (handlers, DMN, scripts), write the state, the task table
and the audit event in one commit. The contract's PDF rendering (WeasyPrint)
is replaced by a fixed PDF, as the baseline replaces every handler: it is a
document cost, measured on its own (`contract_pdf_ms`).
"""
from __future__ import annotations

import contextlib
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from unittest import mock

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bench.measure import Figure, Latencies, StatementCounter, check
from bench.workload import MAX_STEPS, SAMPLES, add_schools, campaign_samples, prepare, step_data
from engine.access import Forbidden, Principal
from engine.campaign.campaigns import current_campaign
from engine.models import Establishment, Person, ProcessInstance, TaskRow
from engine.runtime import compaction
from engine.runtime.runtime import Conflict, FormInvalid, ProcessRuntime, RuntimeSettings

TINY_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


class _FixedPdf:
    """Stands for WeasyPrint's HTML: the same small PDF whatever the page."""

    def __init__(self, string: str = "", **_ignored):
        self.string = string

    def write_pdf(self) -> bytes:
        """A fixed PDF."""
        return TINY_PDF


@contextlib.contextmanager
def without_pdf_rendering():
    """Replace WeasyPrint's rendering by a fixed PDF for the duration of the block."""
    import weasyprint

    with mock.patch.object(weasyprint, "HTML", _FixedPdf):
        yield


class Driver:
    """Completes tasks as requests would: one session per completion, the actor's scopes, timing each."""

    def __init__(self, sessions: sessionmaker, storage_dir):
        self.sessions = sessions
        self.storage_dir = storage_dir
        self.counter = StatementCounter(sessions.kw["bind"])
        self.last_cpu = 0.0

    def start(self, process_id: str, actor_id: int, establishment_id: int) -> int:
        """Start an instance for an establishment; return its id."""
        with self.sessions() as session:
            principal = Principal.of(session.get(Person, actor_id))
            instance = self._runtime(session).start(
                process_id, principal, establishment=session.get(Establishment, establishment_id),
                campaign=current_campaign(session).school_year)
            return instance.id

    def next_task(self, instance_id: int) -> tuple[str, str, str | None] | None:
        """Id, spec id and lane of the oldest ready task of an instance, or None."""
        with self.sessions() as session:
            found = session.execute(select(TaskRow.id, TaskRow.spec_id, TaskRow.lane)
                                    .where(TaskRow.instance_id == instance_id, TaskRow.state == "ready")
                                    .order_by(TaskRow.created_at, TaskRow.id).limit(1)).first()
            return tuple(found) if found is not None else None

    def complete(self, instance_id: int, spec_id: str, actor_id: int, data: dict) -> tuple[float, int]:
        """Complete the ready task `spec_id` of an instance; return its duration and SQL statement count."""
        with self.sessions() as session:
            task_id = session.scalar(select(TaskRow.id).where(TaskRow.instance_id == instance_id,
                                                              TaskRow.state == "ready", TaskRow.spec_id == spec_id))
        if task_id is None:
            raise RuntimeError(f"{spec_id} n'est pas prêt dans l'instance {instance_id}.")
        return self.complete_task(task_id, actor_id, data)

    def complete_task(self, task_id: str, actor_id: int, data: dict) -> tuple[float, int]:
        """Complete a task as a request would; return its duration and SQL statement count.

        Its processor time (the process's own, whatever else the machine runs) is kept in `last_cpu`.
        """
        with self.sessions() as session:
            principal = Principal.of(session.get(Person, actor_id))
        with self.sessions() as session:
            runtime = self._runtime(session)
            before = self.counter.count
            started, started_cpu = time.perf_counter(), time.process_time()
            runtime.complete(task_id, principal, data)
            elapsed = time.perf_counter() - started
            self.last_cpu = time.process_time() - started_cpu
            return elapsed, self.counter.count - before

    def state_size(self, instance_id: int) -> int:
        """Length of an instance's whole engine state (its delta log folded in), in characters."""
        with self.sessions() as session:
            return len(session.get(ProcessInstance, instance_id).state)

    def _runtime(self, session) -> ProcessRuntime:
        return ProcessRuntime(session, RuntimeSettings(self.storage_dir))


@dataclass
class CampaignRun:
    """What completing whole campaigns observed."""

    latencies: Latencies = field(default_factory=Latencies)
    cpu: Latencies = field(default_factory=Latencies)
    statements: list[int] = field(default_factory=list)
    tasks: Counter = field(default_factory=Counter)
    # Latencies by task type (spec id).
    by_task: dict[str, Latencies] = field(default_factory=lambda: defaultdict(Latencies))
    stopped: Counter = field(default_factory=Counter)
    instance_ids: list[int] = field(default_factory=list)
    incidents: Counter = field(default_factory=Counter)


def campaign_run(driver: Driver, sessions: sessionmaker, instances: int, first_number: int,
                 reviewer: int, until: str | None = None,
                 completed: Callable[[str], None] | None = None) -> CampaignRun:
    """Run `instances` hosting projects through the campaign, one task of each instance in turn.

    Whatever user task is ready is completed by the person of its lane with the
    sample data; an instance stops when nothing is ready (its end, or a timer),
    at the task `until`, or when a task refuses the sample data (counted). `completed` is called with the
    task's spec id after each completion.
    """
    with sessions() as session:
        schools = add_schools(session, instances, first_number)
        campaign = current_campaign(session)
        samples = [campaign_samples(campaign, first_number + n) for n in range(instances)]
    ids = [driver.start("hosting_project", school.referent_id, school.establishment_id) for school in schools]
    result = CampaignRun(instance_ids=ids)
    follow_ups, steps = [0] * instances, [0] * instances
    active = list(range(instances))
    while active:
        for n in list(active):
            found = driver.next_task(ids[n])
            if found is None or found[1] == until or steps[n] >= MAX_STEPS:
                active.remove(n)
                continue
            task_id, spec_id, lane = found
            actor = {"referent": schools[n].referent_id, "tuteur": schools[n].tuteur_id}.get(lane, reviewer)
            try:
                elapsed, count = driver.complete_task(task_id, actor, step_data(samples[n], spec_id, follow_ups[n]))
            except (FormInvalid, Forbidden, Conflict) as refused:
                result.stopped[f"{spec_id} ({type(refused).__name__})"] += 1
                active.remove(n)
                continue
            follow_ups[n] += spec_id == "record_follow_up"
            steps[n] += 1
            result.latencies.add(elapsed)
            result.cpu.add(driver.last_cpu)
            result.statements.append(count)
            result.tasks[spec_id] += 1
            result.by_task[spec_id].add(elapsed)
            if completed is not None:
                completed(spec_id)
    with sessions() as session:
        for incident in session.scalars(select(ProcessInstance.incident).where(ProcessInstance.id.in_(ids),
                                                                               ProcessInstance.incident.is_not(None))):
            result.incidents[incident[:160]] += 1
    return result


def _campaign_driver(url: str, storage_dir) -> tuple[sessionmaker, Driver, int]:
    """A prepared database, a driver completing tasks on it, and the reviewing gestionnaire's id."""
    sessions = prepare(url, with_loop=True)
    driver = Driver(sessions, storage_dir)
    with sessions() as session:
        reviewer = session.scalar(select(Person.id).where(Person.login == "gestionnaire.udogec35"))
    return sessions, driver, reviewer


def measure_completion(url: str, storage_dir, instances: int, repeats: int,
                       reference: Callable[[], tuple[float, float]]) -> dict:
    """Figure 2 on one database: `repeats` runs of `instances` whole campaigns.

    `reference` measures the baseline's cost per task, elapsed and processor time; it runs just before and
    just after each run, and the ratios take the mean of both, so that they compare costs measured in the same
    conditions and a passing slowdown of the machine during one reference weighs half. The processor times' ratio holds
    on a loaded machine, where waiting for the database stretches a completion's elapsed time much more than
    an in-memory step's.
    """
    sessions, driver, reviewer = _campaign_driver(url, storage_dir)
    rate = Figure("Complétions par seconde (un seul client)", "tâches/s")
    median = Figure("Latence médiane d'une complétion", "ms")
    p95 = Figure("Latence p95 d'une complétion", "ms")
    ratio = Figure("Rapport à la référence SpiffWorkflow seul (médianes)", "×")
    cpu_ratio = Figure("Rapport à la référence en temps processeur (médianes)", "×")
    statements = Figure("Requêtes SQL par complétion (médiane ; maximum en note)", "requêtes")
    all_counts: list[int] = []
    with without_pdf_rendering():
        campaign_run(driver, sessions, 2, 9000, reviewer)  # warm the bundle cache and imports
        for run in range(repeats):
            before = reference()
            result = campaign_run(driver, sessions, instances, 1000 * (run + 1), reviewer)
            after = reference()
            baseline_ms, baseline_cpu_ms = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
            latencies = result.latencies
            cpu_ratio.runs.append(result.cpu.median_ms / baseline_cpu_ms)
            rate.runs.append(len(latencies.values) / sum(latencies.values))
            median.runs.append(latencies.median_ms)
            p95.runs.append(latencies.p95_ms)
            ratio.runs.append(latencies.median_ms / baseline_ms)
            statements.runs.append(statistics.median(result.statements))
            all_counts += result.statements
    statements.note = f"maximum {max(all_counts)} (tâches suivies de gestionnaires de tâches de service)"
    driver.counter.close()
    sessions.kw["bind"].dispose()
    return {"figures": [rate, median, p95, check(ratio, at_most=5), check(cpu_ratio, at_most=5),
                        check(statements, at_most=10)],
            "ratio": ratio.median, "tasks": dict(result.tasks), "stopped": dict(result.stopped),
            "incidents": dict(result.incidents)}


@contextlib.contextmanager
def without_script_budget():
    """Compile and run the processes' code as RestrictedPython alone would: no checkpoint, no budget."""
    from RestrictedPython import RestrictingNodeTransformer

    from engine.runtime import scripting

    def cleared() -> None:
        scripting.compile_expression.cache_clear()
        scripting.compile_script.cache_clear()

    cleared()
    try:
        with mock.patch.object(scripting, "BudgetedTransformer", RestrictingNodeTransformer), \
                mock.patch.object(scripting, "spending", lambda budget: contextlib.nullcontext()):
            yield
    finally:
        cleared()


def measure_script_budget(url: str, storage_dir, instances: int, repeats: int) -> dict:
    """What the script budget costs a completion: whole campaigns with and without it, runs interleaved.

    Also counts the evaluations a completion makes (scripts, conditions, DMN cells, parameters), so that the
    difference can be read per evaluation.
    """
    from engine.runtime.scripting import RestrictedEnvironment

    sessions, driver, reviewer = _campaign_driver(url, storage_dir)
    with_budget = Figure("Avec le budget des scripts : latence médiane d'une complétion", "ms")
    without = Figure("Sans le budget (RestrictedPython seul) : latence médiane d'une complétion", "ms")
    cost = Figure("Coût du budget des scripts : rapport des latences médianes avec et sans", "×")
    evaluations = Counter()

    def counted(method):
        def call(self, *args, **kwargs):
            evaluations["evaluations"] += 1
            return method(self, *args, **kwargs)
        return call

    number = 5000  # school numbers of their own (figure 2 takes 1000 and up, under 10,000)
    with without_pdf_rendering():
        campaign_run(driver, sessions, 2, number, reviewer)  # warm the bundle cache and imports
        for _run in range(repeats):
            number += 100
            with without_script_budget():
                without.runs.append(campaign_run(driver, sessions, instances, number, reviewer).latencies.median_ms)
            number += 100
            with mock.patch.object(RestrictedEnvironment, "evaluate", counted(RestrictedEnvironment.evaluate)), \
                    mock.patch.object(RestrictedEnvironment, "execute", counted(RestrictedEnvironment.execute)):
                run = campaign_run(driver, sessions, instances, number, reviewer)
            with_budget.runs.append(run.latencies.median_ms)
            evaluations["completions"] += len(run.latencies.values)
            cost.runs.append(with_budget.runs[-1] / without.runs[-1])
    driver.counter.close()
    sessions.kw["bind"].dispose()
    per_completion = evaluations["evaluations"] / max(evaluations["completions"], 1)
    overhead = _evaluation_overhead_us()
    cost.note = (f"{per_completion:.1f} évaluations (scripts, conditions, cellules DMN, paramètres) par complétion "
                 f"en moyenne, chacune plus chère de {overhead['expression']:.2f} µs (expression) à "
                 f"{overhead['loop']:.1f} µs (script de trois tours de boucle) avec le budget ; exécutions "
                 "alternées, 1 × : aucun coût mesurable")
    return {"figures": [with_budget, without, cost], "evaluations_per_completion": per_completion}


def _evaluation_overhead_us(rounds: int = 20000) -> dict[str, float]:
    """Extra microseconds the budget adds to one evaluation: a DMN-like expression, a short looping script."""
    from engine.runtime.scripting import RestrictedEnvironment

    data = {"quota": 2, "review": {"places_granted": 1}}
    script = "places = [{'number': n + 1} for n in range(min(quota, review['places_granted']) + 2)]"

    def timed(environment) -> tuple[float, float]:
        started = time.perf_counter()
        for _ in range(rounds):
            environment.evaluate("quota > 1 and review['places_granted'] <= quota", data)
        middle = time.perf_counter()
        for _ in range(rounds):
            environment.execute(script, dict(data))
        return (middle - started) / rounds * 1e6, (time.perf_counter() - middle) / rounds * 1e6

    budgeted = min(timed(RestrictedEnvironment()) for _ in range(3))
    with without_script_budget():
        plain = min(timed(RestrictedEnvironment()) for _ in range(3))
    return {"expression": budgeted[0] - plain[0], "loop": budgeted[1] - plain[1]}


def contract_pdf_ms(count: int) -> float:
    """Median time WeasyPrint takes to render the contract of the test samples, in ms."""
    from weasyprint import HTML

    from handlers.contract import render_contract_html

    volunteer, terms = SAMPLES["volunteer_file"], SAMPLES["draw_up_contract"]
    establishment = {"name": "Collège Saint-Joseph", "ogec_name": "OGEC Saint-Joseph", "address": "12 rue de Fougères",
                     "postal_code": "35700", "city": "Rennes", "siret": "77751234500011", "uai": "0350781J",
                     "phone": "+33299381200"}
    tutors = [{"id": 1, "name": "Thomas Riou", "email": "t.riou@example.org", "phone": "+33612345678",
               "role": "tuteur", "role_label": "Tuteur"}]
    html = render_contract_html(volunteer, terms, establishment, tutors, date(2027, 6, 20), SAMPLES["design_project"])
    HTML(string=html).write_pdf()
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        HTML(string=html).write_pdf()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations) * 1000


def measure_loop(url: str, storage_dir, iterations: int, early: int = 10, samples: int = 21,
                 compact: bool = True) -> dict:
    """Figure 3: the completions around the `iterations`-th of a long-running loop against `early`-th ones.

    Measured in pairs to cancel the machine's noise: each sample completes the
    `early`-th meeting of a fresh instance, then the next meeting of the long
    one, which ends at its `iterations`-th.
    """
    sessions = prepare(url, with_loop=True)
    driver = Driver(sessions, storage_dir)
    with sessions() as session:
        schools = add_schools(session, samples + 1, 8000 if compact else 8500)
    kept = compaction.HISTORY_KEPT if compact else 10**9
    early_times, late_times, sizes = Latencies(), Latencies(), {}
    with mock.patch.object(compaction, "HISTORY_KEPT", kept):
        long_school, fresh_schools = schools[0], schools[1:]
        long_id = driver.start("bench_loop", long_school.tuteur_id, long_school.establishment_id)
        for number in range(1, iterations - samples + 1):
            _meeting(driver, long_id, long_school.tuteur_id, number)
        fresh = []
        for school in fresh_schools:
            instance_id = driver.start("bench_loop", school.tuteur_id, school.establishment_id)
            for number in range(1, early):
                _meeting(driver, instance_id, school.tuteur_id, number)
            fresh.append((instance_id, school))
        for offset, (instance_id, school) in enumerate(fresh):
            early_times.add(_meeting(driver, instance_id, school.tuteur_id, early))
            late_times.add(_meeting(driver, long_id, long_school.tuteur_id, iterations - samples + 1 + offset))
        sizes = {early: driver.state_size(fresh[0][0]), iterations: driver.state_size(long_id)}
    driver.counter.close()
    sessions.kw["bind"].dispose()
    return {"early_ms": early_times.median_ms, "late_ms": late_times.median_ms,
            "ratio": late_times.median_ms / early_times.median_ms, "sizes": sizes, "early": early,
            "late": iterations}


def _meeting(driver: Driver, instance_id: int, tuteur_id: int, number: int) -> float:
    data = {"meeting_date": date(2027, 10, 1).isoformat(), "notes": f"Entretien n° {number}.", "mission_over": False}
    return driver.complete(instance_id, "bench_meeting", tuteur_id, data)[0]
