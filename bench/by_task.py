"""Figure 2, by task type: each type's completion against its in-memory step, its durable floor, and the work
the platform does there that neither of them does.

The reference (figure 1) and the floor (`bench.floor`) replay the handlers' recorded results and check no form:
a type's completion on the platform also validates its form and the handlers' rules, runs the real service
handlers with their reads, and stores the files received. Adding the medians of those three parts to the
type's durable floor gives the least its completion could cost with the same work, whatever the code around
it: what is left of the completion beyond that sum is the platform's own cost (reading the task through the
ORM, the session, the task rows as objects, the changes' signatures…), the only part that a rewrite of the
runtime could take away.
"""
from __future__ import annotations

import contextlib
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from unittest import mock

from bench.completion_parts import timing
from bench.engine_cost import _campaign_driver, campaign_run, without_pdf_rendering
from bench.floor import TaskFloor
from bench.measure import Figure
from engine.runtime import runtime, scripting
from engine.uploads import Attachments

# The platform's own work on a completion that the floor leaves out: (label, object, attribute).
WORK = (
    ("validation", runtime.ProcessRuntime, "validate"),
    ("gestionnaires", scripting.CampaignScriptEngine, "call_service"),
    ("fichiers", Attachments, "receive"),
)


@dataclass(frozen=True)
class TaskCost:
    """Medians of one task type, in ms."""

    spec_id: str
    completions: int
    platform_ms: float
    step_ms: float
    floor_ms: float
    work_ms: dict[str, float]

    @property
    def least_ms(self) -> float:
        """The durable floor with the type's validation, handlers and files: the least its completion can cost."""
        return self.floor_ms + sum(self.work_ms.values())


@contextlib.contextmanager
def work_per_completion(record: Callable[[dict[str, float]], None]) -> Iterator[None]:
    """Time `WORK` inside each `ProcessRuntime.complete` and give `record` each completion's seconds by label.

    The totals start again at each completion: what a start or a refused completion spent is not counted.
    """
    spent: dict[str, float] = defaultdict(float)
    complete = runtime.ProcessRuntime.complete

    def timed_completion(*args, **kwargs):
        spent.clear()
        completed = complete(*args, **kwargs)
        record(dict(spent))
        return completed

    with mock.patch.object(runtime.ProcessRuntime, "complete", timed_completion), timing(spent, WORK):
        yield


def measure_by_task(url: str, storage_dir, instances: int, repeats: int,
                    floors: dict[str, TaskFloor]) -> list[TaskCost]:
    """`repeats` campaign runs of `instances` hosting projects on the platform, each part timed, against `floors`.

    A run completes one task type for every instance in turn, in a few tens of milliseconds: a burst of other
    work on the machine would slow a whole type down. Each type's medians are taken over all runs.
    """
    sessions, driver, reviewer = _campaign_driver(url, storage_dir)
    latencies: dict[str, list[float]] = defaultdict(list)
    work: dict[str, list[dict[str, float]]] = defaultdict(list)
    last: list[dict[str, float]] = []
    with without_pdf_rendering():
        campaign_run(driver, sessions, 2, 6000, reviewer)  # warm the bundle cache and imports
        with work_per_completion(last.append):
            for repeat in range(repeats):
                run = campaign_run(driver, sessions, instances, 6100 + 100 * repeat, reviewer,
                                   completed=lambda spec_id: work[spec_id].append(last.pop()))
                for spec_id, durations in run.by_task.items():
                    latencies[spec_id] += durations.values
    driver.counter.close()
    sessions.kw["bind"].dispose()
    costs = []
    for spec_id, durations in latencies.items():
        floor = floors.get(spec_id)
        if floor is None:
            continue  # a task the in-memory runs never reach (the recorded run stopped before it)
        costs.append(TaskCost(spec_id, len(durations), statistics.median(durations) * 1000, floor.step_ms,
                              floor.floor_ms,
                              {label: statistics.median(parts.get(label, 0.0) for parts in work[spec_id]) * 1000
                               for label, _owner, _name in WORK}))
    return costs


def weighted_median(values: list[tuple[float, int]]) -> float:
    """The median of values each counted as many times as given."""
    expanded = sorted(value for value, count in values for _ in range(count))
    return statistics.median(expanded)


def _medians(costs: list[TaskCost]) -> tuple[float, float]:
    """The least cost and the in-memory step of the campaign's median completion (types weighed by completions)."""
    return (weighted_median([(cost.least_ms, cost.completions) for cost in costs]),
            weighted_median([(cost.step_ms, cost.completions) for cost in costs]))


def figures(costs: list[TaskCost]) -> list[Figure]:
    """The least a campaign's median completion could cost with its work, and its ratio to the in-memory step."""
    least_ms, step_ms = _medians(costs)
    least = Figure("Au mieux à travail égal : plancher durable + validation + gestionnaires + fichiers, médiane "
                   "des types pondérée par leurs complétions", "ms")
    least.runs.append(least_ms)
    ratio = Figure("Rapport de ce minimum à l'étape en mémoire (médianes pondérées des types)", "×")
    ratio.runs.append(least_ms / step_ms)
    return [least, ratio]


def _ms(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def summary(costs: list[TaskCost], at_most: float = 5) -> str:
    """What the run says of the ratio target: the least median with the same work, and what the target leaves."""
    least, step = _medians(costs)
    own = sorted(cost.platform_ms - cost.least_ms for cost in costs)
    left = at_most * step - least
    ratio = f"{least / step:.1f}".replace(".", ",")
    said = (f"À cette exécution, à travail égal, la complétion médiane coûterait au moins {_ms(least)} ms, "
            f"{ratio} fois l'étape en mémoire ({_ms(step)} ms) ; la cible de {at_most:g} fois cette étape "
            f"({_ms(at_most * step)} ms) laisserait ")
    if left <= 0:
        return said + "moins que rien au coût propre de la plateforme : le travail lui-même la dépasse."
    return said + (f"{_ms(left)} ms par complétion au coût propre de la plateforme, qui est de "
                   f"{_ms(statistics.median(own))} ms en médiane des types (de {_ms(own[0])} à {_ms(own[-1])} ms).")


def table(costs: list[TaskCost]) -> list[str]:
    """The costs as a Markdown table, one line per task type, in ms."""
    lines = ["Par type de tâche (SQLite, médianes en ms ; les notes ci-dessous disent ce que mesure chaque colonne) :",
             "",
             "| tâche | complétions | plateforme | étape en mémoire | plancher durable | validation | "
             "gestionnaires | fichiers | minimum à travail égal | reste propre à la plateforme |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for cost in sorted(costs, key=lambda cost: cost.platform_ms):
        lines.append(f"| {cost.spec_id} | {cost.completions} | {_ms(cost.platform_ms)} | {_ms(cost.step_ms)} | "
                     f"{_ms(cost.floor_ms)} | {' | '.join(_ms(cost.work_ms[label]) for label, _o, _n in WORK)} | "
                     f"{_ms(cost.least_ms)} | {_ms(cost.platform_ms - cost.least_ms)} |")
    return lines
