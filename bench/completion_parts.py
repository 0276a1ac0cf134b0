"""Figure 2, detail: what parts of a completion cost, and the state written by differences against whole.

One campaign run (as figure 2's) with timing wrappers around the parts that
are on every completion's path besides SpiffWorkflow itself: writing the
engine state, building the handlers' task context, validating the form, the
drafts a completion clears, and the handlers (service tasks) themselves. At each save the
workflow is also serialised both ways, whole and by differences since its
stored state, one right after the other: their ratio compares the two on the
same workflows, whatever the machine's load.
"""
from __future__ import annotations

import contextlib
import statistics
import time
from collections import defaultdict
from unittest import mock

from bench.engine_cost import _campaign_driver, campaign_run, without_pdf_rendering
from bench.measure import Figure
from engine.runtime import handler_context, runtime, scripting, serialization, store, tasks

# Parts timed: (label, object, attribute).
PARTS = (
    ("écriture de l'état (sérialisation et instruction SQL)", store.InstanceStore, "_write"),
    ("contexte des gestionnaires de tâches (construction)", handler_context.HandlerContexts, "_build"),
    ("validation du formulaire (JSON Schema et règles, listes de choix comprises)", runtime.ProcessRuntime,
     "validate"),
    ("brouillons effacés à la complétion", tasks, "discard_drafts"),
    ("gestionnaires de tâches de service (appels, requêtes comprises)", scripting.CampaignScriptEngine, "call_service"),
)


@contextlib.contextmanager
def timing(spent: dict[str, float], parts: tuple[tuple[str, object, str], ...] = PARTS):
    """Add the time spent in each of `parts` (`PARTS` by default) to `spent`, by label, for the duration of the
    block."""
    with contextlib.ExitStack() as stack:
        for label, owner, name in parts:
            original = getattr(owner, name)

            def timed(*args, _original=original, _label=label, **kwargs):
                started = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    spent[_label] += time.perf_counter() - started

            stack.enter_context(mock.patch.object(owner, name, timed))
        yield


@contextlib.contextmanager
def both_ways(whole: list[float], delta: list[float], sizes: list[tuple[int, int]]):
    """At each save of a workflow with a stored state, time its serialisation whole and by differences."""
    original = store.InstanceStore._write

    def compared(self, instance, workflow, serializer):
        before = serialization.STORED.get(workflow)
        if before is not None:
            started = time.perf_counter()
            text = serializer.dumps(workflow)
            middle = time.perf_counter()
            line, _signatures = serializer.changes(workflow, before.signatures)
            whole.append(middle - started)
            delta.append(time.perf_counter() - middle)
            sizes.append((len(text), len(line)))
        return original(self, instance, workflow, serializer)

    with mock.patch.object(store.InstanceStore, "_write", compared):
        yield


def measure_parts(url: str, storage_dir, instances: int) -> dict:
    """The parts of a completion (µs per completion) and the state written whole against by differences."""
    sessions, driver, reviewer = _campaign_driver(url, storage_dir)
    spent: dict[str, float] = defaultdict(float)
    whole: list[float] = []
    delta: list[float] = []
    sizes: list[tuple[int, int]] = []
    with without_pdf_rendering():
        campaign_run(driver, sessions, 2, 7000, reviewer)  # warm the bundle cache and imports
        with timing(spent):
            run = campaign_run(driver, sessions, instances, 7100, reviewer)
        with both_ways(whole, delta, sizes):
            campaign_run(driver, sessions, instances, 7200, reviewer)
    driver.counter.close()
    sessions.kw["bind"].dispose()
    completions = len(run.latencies.values)
    median_ms = run.latencies.median_ms
    figures = []
    for label, _owner, _name in PARTS:
        figure = Figure(f"Par complétion : {label}", "ms")
        figure.runs.append(spent[label] / completions * 1000)
        figures.append(figure)
    full_ms = Figure("Sérialisation de l'état entier à chaque enregistrement (médiane)", "ms")
    full_ms.runs.append(statistics.median(whole) * 1000)
    changes_ms = Figure("Sérialisation des seules différences, mêmes enregistrements (médiane)", "ms")
    changes_ms.runs.append(statistics.median(delta) * 1000)
    full_chars = statistics.median(size[0] for size in sizes)
    line_chars = statistics.median(size[1] for size in sizes)
    changes_ms.note = (f"état entier {full_chars / 1000:.1f} Ko, ligne de différences {line_chars / 1000:.1f} Ko "
                       f"(médianes, {len(sizes)} enregistrements)")
    ratio = Figure("Sérialisation par différences / entière (mêmes enregistrements)", "×")
    ratio.runs.append(changes_ms.median / full_ms.median)
    return {"figures": [*figures, full_ms, changes_ms, ratio], "median_ms": median_ms, "completions": completions}
