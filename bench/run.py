"""Run the benchmark figures at a given scale and write BENCHMARKS.md.

    .venv/bin/python -m bench            # full mode, by hand (about half an hour): BENCHMARKS.md
    .venv/bin/python -m bench --quick    # the same figures, small: instance/BENCHMARKS-rapide.md
    .venv/bin/python -m bench --figures 2,3 --output /tmp/b.md

Figures on PostgreSQL need a server at --postgres-url (default: the test
server on 127.0.0.1:5432); without one they are reported as not measured.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import baseline, by_task, completion_parts, engine_cost, figures_text, floor, http_load, scale
from bench.measure import (
    DEFAULT_POSTGRES_URL,
    ROOT,
    Figure,
    check,
    check_rate_or_cpu_model,
    collector_as_in_workers,
    fresh_database,
    machine,
    postgres_available,
    quiet_machine,
)
from bench.report import Section, render, write
from bench.workload import prepare

DATABASES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@dataclass(frozen=True)
class Scale:
    """Sizes and repetitions of every figure."""

    name: str
    baseline_instances: int
    repeats: int
    campaign_instances: int
    loop_iterations: int
    loop_samples: int
    loop_repeats: int
    unbounded_iterations: int
    scale_instances: int
    scale_tasks: int
    scale_rounds: int
    scale_calls: int
    http_workers: int
    http_clients: int
    http_seconds: float
    http_runs: int
    http_walks: int
    single_completions: int
    pdf_renderings: int
    directory: tuple[int, int]
    directory_runs: int
    # Whether figure 4 also serves its data through gunicorn, for the workers' memory (figure 6).
    scale_through_http: bool = True
    # How long figure 5 waits at most for the machine to settle before its measurements (`quiet_machine`).
    quiet_seconds: float = 90.0


SCALES = {
    "full": Scale("complet", 40, 3, 20, 1000, 15, 1, 200, 50_000, 500_000, 5, 30, 4, 8, 20, 3, 400, 120, 5,
                  (7500, 40000), 2),
    "quick": Scale("rapide", 10, 3, 5, 100, 7, 1, 60, 5_000, 50_000, 3, 10, 4, 4, 5, 2, 150, 30, 1,
                   (500, 3000), 1, quiet_seconds=30.0),
    "smoke": Scale("minimal", 2, 1, 1, 12, 2, 1, 0, 100, 1_000, 1, 2, 1, 1, 1, 1, 2, 3, 0, (20, 100), 1,
                   scale_through_http=False, quiet_seconds=0.0),
}


@dataclass
class Context:
    """What the figures share during one run."""

    scale: Scale
    storage: Path
    kinds: list[str]
    postgres_url: str
    memory: dict
    postgres_note: str
    _reference: baseline.Reference | None = None

    def reference(self) -> baseline.Reference:
        """The in-memory baseline, prepared once."""
        if self._reference is None:
            self._reference = baseline.Reference(self.storage)
        return self._reference


def figure_1(context: Context) -> Section:
    """Engine baseline in memory."""
    result = baseline.measure(context.reference(), context.scale.baseline_instances, context.scale.repeats)
    return Section(1, "Référence : SpiffWorkflow seul, en mémoire", figures_text.BASELINE.format(
        tasks=result["tasks_per_instance"], instances=result["instances"]), result["figures"])


def figure_2(context: Context) -> Section:
    """Per-task completion cost through the runtime."""
    section = Section(2, "Coût d'une complétion par notre moteur (ProcessRuntime)", figures_text.COMPLETION)

    def reference() -> tuple[float, float]:
        return context.reference().per_task(max(2, context.scale.baseline_instances // 2))

    for kind in context.kinds:
        with fresh_database(kind, context.postgres_url) as url:
            result = engine_cost.measure_completion(url, context.storage, context.scale.campaign_instances,
                                                    context.scale.repeats, reference)
        for figure in result["figures"]:
            figure.name = f"{DATABASES[kind]} — {figure.name}"
            if kind == "postgresql" and figure.unit == "×":
                figure.met, figure.target = None, "(cible sur SQLite)"
            section.figures.append(figure)
        section.notes.append(f"{DATABASES[kind]} : tâches complétées par exécution "
                             f"{', '.join(f'{k} × {v}' for k, v in result['tasks'].items())}"
                             + (f" ; instances arrêtées : {result['stopped']}" if result["stopped"] else "")
                             + (f" ; incidents : {result['incidents']}" if result["incidents"] else "") + ".")
    for kind in context.kinds[:1]:
        # The budget's cost is a difference of a few percent: measured on SQLite, runs alternated.
        with fresh_database(kind, context.postgres_url) as url:
            budget = engine_cost.measure_script_budget(url, context.storage, context.scale.campaign_instances,
                                                       max(context.scale.repeats, 3))
        for figure in budget["figures"]:
            figure.name = f"{DATABASES[kind]} — {figure.name}"
            section.figures.append(figure)
    for kind in context.kinds[:1]:
        with fresh_database(kind, context.postgres_url) as url:
            parts = completion_parts.measure_parts(url, context.storage, context.scale.campaign_instances)
        for figure in parts["figures"]:
            figure.name = f"{DATABASES[kind]} — {figure.name}"
            section.figures.append(figure)
        section.notes.append(f"Détail mesuré sur {parts['completions']} complétions ({DATABASES[kind]}), de "
                             f"latence médiane {parts['median_ms']:.1f} ms chronométrage compris.")
    if "sqlite" in context.kinds:
        with fresh_database("sqlite", context.postgres_url) as url:
            floor_result = floor.measure_floor(url, context.reference(), context.scale.campaign_instances,
                                               context.scale.repeats)
        for figure in floor_result["figures"]:
            figure.name = f"{DATABASES['sqlite']} — {figure.name}"
            section.figures.append(figure)
        section.notes.append(figures_text.FLOOR.format(completions=floor_result["completions"]))
        with fresh_database("sqlite", context.postgres_url) as url:
            costs = by_task.measure_by_task(url, context.storage, context.scale.campaign_instances,
                                            context.scale.repeats, floor_result["by_task"])
        for figure in by_task.figures(costs):
            figure.name = f"{DATABASES['sqlite']} — {figure.name}"
            section.figures.append(figure)
        section.tables.append(by_task.table(costs))
        section.notes.append(figures_text.BY_TASK)
        section.notes.append(by_task.summary(costs))
    section.notes.append(figures_text.PEERS)
    section.notes.append(f"Charge moyenne de la machine (1 min) à la fin de la figure : {os.getloadavg()[0]:.1f}.")
    if context.scale.pdf_renderings:
        pdf = engine_cost.contract_pdf_ms(context.scale.pdf_renderings)
        section.notes.append(f"Rendu du PDF du contrat par WeasyPrint, hors figure : médiane {pdf:.0f} ms par "
                             "contrat (une fois par volontaire).")
    return _skipped_postgres(section, context)


def figure_3(context: Context) -> Section:
    """Flat cost with history."""
    section = Section(3, "Coût plat avec l'historique", figures_text.HISTORY.format(
        late=context.scale.loop_iterations, samples=context.scale.loop_samples))
    for kind in context.kinds:
        early = Figure(f"{DATABASES[kind]} — 10e complétion", "ms")
        late = Figure(f"{DATABASES[kind]} — {context.scale.loop_iterations}e complétion", "ms")
        ratio = Figure(f"{DATABASES[kind]} — rapport {context.scale.loop_iterations}e / 10e", "×")
        for _ in range(context.scale.loop_repeats):
            with fresh_database(kind, context.postgres_url) as url:
                result = engine_cost.measure_loop(url, context.storage, context.scale.loop_iterations,
                                                  samples=context.scale.loop_samples)
            early.runs.append(result["early_ms"])
            late.runs.append(result["late_ms"])
            ratio.runs.append(result["ratio"])
        sizes = result["sizes"]
        late.note = f"état enregistré {sizes[context.scale.loop_iterations] / 1000:.1f} Ko contre " \
                    f"{sizes[10] / 1000:.1f} Ko à la 10e"
        section.figures += [early, late, check(ratio, at_most=1.5)]
    if not context.scale.unbounded_iterations:
        return _skipped_postgres(section, context)
    with fresh_database("sqlite") as url:
        unbounded = engine_cost.measure_loop(url, context.storage, context.scale.unbounded_iterations,
                                             samples=min(context.scale.loop_samples, 11), compact=False)
    section.notes.append(
        f"Sans la compaction de l'historique (même boucle, SQLite), la {unbounded['late']}e complétion coûte "
        f"{unbounded['late_ms']:.1f} ms contre {unbounded['early_ms']:.1f} ms à la 10e (rapport "
        f"{unbounded['ratio']:.1f}), et l'état enregistré passe de {unbounded['sizes'][10] / 1000:.0f} Ko à "
        f"{unbounded['sizes'][unbounded['late']] / 1000:.0f} Ko : c'est la croissance linéaire que la "
        "compaction supprime.")
    return _skipped_postgres(section, context)


def figure_4(context: Context) -> Section:
    """Inbox, instance page and counts at scale, plus a pass through gunicorn for memory."""
    s = context.scale
    section = Section(4, "Boîte de réception et suivi à grande échelle", figures_text.SCALE.format(
        instances=s.scale_instances, tasks=s.scale_tasks, calls=s.scale_calls * s.scale_rounds))
    for kind in context.kinds:
        with fresh_database(kind, context.postgres_url) as url:
            result = scale.measure_scale(url, context.storage, s.scale_instances, s.scale_tasks, s.scale_rounds,
                                         s.scale_calls)
            with http_load.serve(url, context.storage, s.http_workers) if s.scale_through_http \
                    else contextlib.nullcontext() as server:
                for _ in range(s.scale_calls if server is not None else 0):
                    for path, token in ((result["paths"]["inbox"], result["tokens"]["big"]),
                                        (result["paths"]["instance"], result["tokens"]["big"]),
                                        ("/api/v1/instances", result["tokens"]["national"])):
                        status = http_load.request(server.port, "GET", path, token).status
                        if status != 200:
                            raise RuntimeError(f"{path} : HTTP {status}")
                if server is not None:
                    context.memory[f"figure 4 ({DATABASES[kind]})"] = server.peak_worker_rss_mb()
        for figure in result["figures"]:
            figure.name = f"{DATABASES[kind]} — {figure.name}"
            section.figures.append(figure)
        seeded = result["seeded"]
        section.notes.append(
            f"{DATABASES[kind]} : {seeded.instances} instances, {seeded.completed_tasks} tâches accomplies et "
            f"autant d'événements d'historique, {seeded.ready_tasks} tâches à faire, insérées en "
            f"{result['seeding_s']:.0f} s ; la boîte du gestionnaire du grand territoire compte "
            f"{result['inbox_size']} tâches ; état moteur de chaque instance : {result['state_bytes'] / 1000:.0f} Ko.")
        section.notes.append(figures_text.collector_note(DATABASES[kind], result["collector"]))
    return _skipped_postgres(section, context)


def figure_5(context: Context) -> Section:
    """Completions over HTTP: single client on each database, sustained load on PostgreSQL."""
    s = context.scale
    section = Section(5, "À travers HTTP (gunicorn, API JSON)", figures_text.HTTP.format(
        workers=s.http_workers, clients=s.http_clients, seconds=s.http_seconds, quiet=s.quiet_seconds))
    for kind in context.kinds:
        latency = Figure(f"{DATABASES[kind]} — un client : latence médiane d'une complétion", "ms")
        in_worker = Figure(f"{DATABASES[kind]} — un client : dont temps dans le worker (médiane)", "ms")
        statements = Figure(f"{DATABASES[kind]} — requêtes SQL par complétion (médiane)", "requêtes")
        load = Figure(f"{DATABASES[kind]} — {s.http_clients} clients : complétions par seconde soutenues",
                      "tâches/s")
        server_cpu = Figure(f"{DATABASES[kind]} — {s.http_clients} clients : CPU des workers par complétion "
                            "(utilisateur + système)", "ms")
        database_cpu = Figure(f"{DATABASES[kind]} — {s.http_clients} clients : CPU de PostgreSQL par complétion",
                              "ms")
        per_core = Figure(f"{DATABASES[kind]} — complétions par seconde qu'apporte chaque cœur "
                          "(1 / CPU par complétion)", "tâches/s")
        errors, maxima, p95s, messages, loads, client_ms = 0, [], [], [], [], []
        with fresh_database(kind, context.postgres_url) as url:
            sessions = prepare(url)
            per_run = s.single_completions // 6 + 1
            wanted = per_run * s.repeats + s.http_walks * s.http_runs
            walks = http_load.prepare_walks(sessions, context.storage, wanted, 1000)
            sessions.kw["bind"].dispose()
            with http_load.serve(url, context.storage, s.http_workers) as server:
                settled = [quiet_machine(url, patience=s.quiet_seconds)]
                for run in range(s.repeats):
                    result = http_load.run_load(server.port, walks[run * per_run:(run + 1) * per_run], 1, 3600)
                    errors += len(result.errors)
                    messages += result.errors
                    latency.runs.append(result.latencies.median_ms)
                    in_worker.runs.append(result.in_worker.median_ms)
                    statements.runs.append(statistics.median(result.statements))
                    maxima.append(max(result.statements))
                settled.append(quiet_machine(url, patience=s.quiet_seconds))
                rest = walks[s.repeats * per_run:]
                share = len(rest) // s.http_runs
                for run in range(s.http_runs):
                    result = http_load.run_load(server.port, rest[run * share:(run + 1) * share], s.http_clients,
                                                s.http_seconds, server, url)
                    errors += len(result.errors)
                    messages += result.errors
                    load.runs.append(result.completions / result.elapsed)
                    p95s.append(result.latencies.p95_ms)
                    done = max(result.completions, 1)
                    server_cpu.runs.append(result.server_cpu / done * 1000)
                    database_cpu.runs.append(result.database_cpu / done * 1000)
                    per_core.runs.append(done / max(result.server_cpu + result.database_cpu, 1e-9))
                    client_ms.append(result.client_cpu / done * 1000)
                    loads.append(result.load_average)
                context.memory[f"figure 5 ({DATABASES[kind]})"] = server.peak_worker_rss_mb()
        statements.note = f"maximum {max(maxima)}, tâches suivies de tâches de service"
        load.note = f"{errors} erreur(s) ; latence p95 sous charge {statistics.median(p95s):.0f} ms"
        target = 6 if kind == "sqlite" else 10
        section.figures += [check(latency, at_most=target), in_worker, check(statements, at_most=10)]
        if kind == "postgresql":
            section.figures.append(check_rate_or_cpu_model(load, per_core, statistics.median(client_ms), 200))
        else:
            section.figures.append(load)
        per_core.note = (f"200 complétions/s demanderaient {200 / per_core.median:.1f} cœurs pour les workers"
                         + (" et PostgreSQL" if kind == "postgresql" else "") + " ; le générateur de charge a pris "
                         f"{statistics.median(client_ms):.1f} ms de CPU par complétion en plus ; charge moyenne "
                         f"(1 min) pendant la charge {statistics.median(loads):.1f}, avant les mesures "
                         f"{' et '.join(f'{value:.1f}' for value in settled)}")
        section.figures += [server_cpu, *([database_cpu] if kind == "postgresql" else []), per_core]
        if errors:
            section.notes.append(f"{DATABASES[kind]} : {errors} réponse(s) en erreur pendant la mesure, dont : "
                                 f"{messages[0]}")
    return _skipped_postgres(section, context)


def figure_6(context: Context) -> Section:
    """Peak memory of the web workers during figures 4 and 5."""
    section = Section(6, "Mémoire d'un worker web", figures_text.MEMORY)
    for label, megabytes in context.memory.items():
        figure = Figure(f"Pic de mémoire résidente (VmHWM) d'un worker — {label}", "Mo", [megabytes])
        section.figures.append(check(figure, at_most=250))
    return section


def figure_7(context: Context) -> Section:
    """Directory import, from the directory benchmark."""
    from bench import directory_import

    establishments, people = context.scale.directory
    section = Section(7, "Import de l'annuaire", figures_text.DIRECTORY.format(establishments=establishments,
                                                                               people=people))
    for kind in context.kinds:
        first = Figure(f"{DATABASES[kind]} — premier import", "s")
        second = Figure(f"{DATABASES[kind]} — second import (même fichier, rien ne change)", "s")
        for _ in range(context.scale.directory_runs):
            output = io.StringIO()
            with fresh_database(kind, context.postgres_url) as url, contextlib.redirect_stdout(output):
                directory_import.run(establishments, people, url)
            durations = [float(v.replace(",", ".")) for v in re.findall(r"import[^:]*: ([\d.,]+) s", output.getvalue())]
            first.runs.append(durations[0])
            second.runs.append(durations[1])
        section.figures += [first, second]
    return _skipped_postgres(section, context)


FIGURES = {1: figure_1, 2: figure_2, 3: figure_3, 4: figure_4, 5: figure_5, 6: figure_6, 7: figure_7}
# Figures running the engine in this process, as a request in a web worker would (figure 4 measures the
# collector's pauses itself, before and after freezing).
ENGINE_IN_PROCESS = frozenset({1, 2, 3})


def _skipped_postgres(section: Section, context: Context) -> Section:
    if "postgresql" not in context.kinds:
        section.notes.append(f"PostgreSQL non mesuré : {context.postgres_note}.")
    return section


def run(mode: str, numbers: list[int], output: Path | None, postgres_url: str = DEFAULT_POSTGRES_URL,
        kinds: list[str] | None = None) -> list[Section]:
    """Measure the figures `numbers` at the scale `mode`; write the report to `output` when given."""
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    note = "non demandé pour cette exécution"
    if kinds is None:
        kinds = ["sqlite"] + (["postgresql"] if postgres_available(postgres_url) else [])
        note = f"aucun serveur ne répond à {postgres_url}"
    sections = []
    with tempfile.TemporaryDirectory(prefix="bench-documents-") as storage:
        context = Context(SCALES[mode], Path(storage), kinds, postgres_url, {}, note)
        for number in numbers:
            print(f"Figure {number}…", file=sys.stderr, flush=True)
            with collector_as_in_workers() if number in ENGINE_IN_PROCESS else contextlib.nullcontext():
                sections.append(FIGURES[number](context))
    if output is not None:
        command = "make bench" if mode == "full" else f"make bench-{mode}"
        facts = {**machine(), "load": f"{load_before:.1f} au début, {os.getloadavg()[0]:.1f} à la fin"}
        write(output, render(sections, facts, SCALES[mode].name, command, time.perf_counter() - started,
                             figures_text.LIMITS))
    return sections


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description="Mesures de performance de la plateforme")
    parser.add_argument("--quick", action="store_true", help="mode rapide (petites tailles)")
    parser.add_argument("--figures", default="1,2,3,4,5,6,7", help="numéros des figures, séparés par des virgules")
    parser.add_argument("--output", type=Path, help="rapport à écrire (BENCHMARKS.md en mode complet, "
                        "instance/BENCHMARKS-rapide.md en mode rapide)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    arguments = parser.parse_args(argv)
    numbers = [int(n) for n in arguments.figures.split(",") if n.strip()]
    output = arguments.output or (ROOT / "instance" / "BENCHMARKS-rapide.md" if arguments.quick
                                  else ROOT / "BENCHMARKS.md")
    output.parent.mkdir(parents=True, exist_ok=True)
    run("quick" if arguments.quick else "full", numbers, output, arguments.postgres_url)
    print(f"Rapport écrit dans {output}", file=sys.stderr)
