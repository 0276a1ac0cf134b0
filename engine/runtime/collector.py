"""How a long-running process of the platform (a web worker) sets Python's garbage collector once started.

Two settings, both measured on completions (docs/performances.md):

- What start-up leaves (SpiffWorkflow, WeasyPrint, SQLAlchemy, the app: more than 250,000 objects) is kept for
  the process's life: frozen, it is left out of every collection, and a full collection no longer walks it
  (150 to 600 ms on a busy two-core machine, inside a request now and then).
- A completion allocates tens of thousands of objects (the engine's tasks and their data, rows, JSON). With
  Python's default threshold, a young collection ran every 700 allocations, about twenty per completion, each
  walking what the completion had not yet let go: 0.36 ms per completion in all. Every 20,000 allocations,
  the same garbage is collected for 0.14 ms. The older generations keep their thresholds, so that cycles
  living longer (a workflow dropped from the cache) are still collected as often, counted in young
  collections.
"""
from __future__ import annotations

import gc

YOUNG_COLLECTION_THRESHOLD = 20_000


def settle_collector() -> None:
    """Freeze the objects that exist now and collect the young generation every 20,000 allocations."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)
