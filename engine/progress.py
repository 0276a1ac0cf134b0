"""Progress of long work (a directory import, a walk through every dossier's state), told to whoever watches it."""
from __future__ import annotations

from collections.abc import Callable

# `progress(done, total)`: items settled so far, out of how many.
Progress = Callable[[int, int], None]
# A long piece of work is told of every 2 % of it, but no more often than every this many items.
MINIMUM_STEP = 500


class ProgressCounter:
    """Counts the items of a piece of work and tells `progress` every 2 % of them (no more often than every
    `MINIMUM_STEP` items), and once the last one is settled."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress = progress
        self.total = total
        self.done = 0
        self.step = max(total // 50, MINIMUM_STEP)

    def advance(self, count: int = 1) -> None:
        """Count `count` more items settled."""
        before, self.done = self.done, self.done + count
        if self.progress is not None and (before // self.step != self.done // self.step or self.done == self.total):
            self.progress(self.done, self.total)


def percent(done: int, total: int) -> int:
    """How much of the work is done, in whole per cent (all of it when there was nothing to do)."""
    return done * 100 // total if total else 100
