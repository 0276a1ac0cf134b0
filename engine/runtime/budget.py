"""Time and memory budgets of the code analysts write: scripts, conditions, DMN cells, expressions, templates.

Analysts' code runs in the server's own process: a separate process per evaluation would cost more than the
engine step itself (a DMN table is tens of evaluations). The budget is therefore kept by the code itself:

- the compiler (`engine.runtime.scripting`) puts a checkpoint in every loop (`for`, `while`, comprehensions,
  generator expressions, through RestrictedPython's `_getiter_`), so that no loop runs past the deadline, and so
  that the memory a loop accumulates is measured (the process's resident memory, every few thousand turns);
- the operations that allocate at once in C (`seq * n`, `n ** m`, `n << m`, `"%1000000000d" % x`, `str.center`,
  f-string widths, `range` consumed by `list`/`sum`…) are checked *before* they run against the budget, so that
  `[0] * 10 ** 9` is refused without ever allocating.
An evaluation that has no loop and no such operation pays one clock read.

Exceeding the budget raises `BudgetExceeded`; the engine turns it into an incident naming the element.
"""
from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# Turns of a loop between two clock reads, and between two readings of the process's memory.
_TIME_EVERY = 256
_MEMORY_EVERY = 1024
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# What one item of a list or tuple costs at least (its pointer), and one character of a text.
_ITEM_BYTES = 8
# Text formats whose width or precision would allocate: « %1000000000d », « {:>1000000000} ».
_PERCENT_WIDTH = re.compile(r"%[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")
_SPEC_NUMBERS = re.compile(r"\d+")


@dataclass(frozen=True)
class Budget:
    """What one evaluation may spend: seconds of the clock and megabytes of memory."""

    seconds: float = 1.0
    megabytes: int = 64

    @property
    def bytes(self) -> int:
        """The memory budget in bytes."""
        return self.megabytes * 1024 * 1024


class BudgetExceeded(Exception):
    """An evaluation went past its time or memory budget; the message says which, in French."""


class _Meter:
    """The budget of the evaluation under way in this thread."""

    __slots__ = ("budget", "deadline", "turns", "baseline", "pending")

    def __init__(self, budget: Budget):
        self.budget = budget
        self.deadline = time.monotonic() + budget.seconds
        self.turns = 0
        # The resident memory when the evaluation first allocated in bulk or looped a thousand turns: most
        # evaluations never do, and pay no reading of it.
        self.baseline: int | None = None
        # Bytes of bulk allocations let through since the memory was last read.
        self.pending = 0.0

    def tick(self) -> None:
        self.turns += 1
        if self.turns % _TIME_EVERY == 0:
            self.check_time()
            if self.turns % _MEMORY_EVERY == 0:
                self.check_memory()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"le calcul dépasse sa limite de temps ({_seconds(self.budget.seconds)}) : "
                                 "une boucle ne s'arrête pas, ou traite trop de données")

    def check_memory(self) -> None:
        self.pending = 0.0
        resident = _resident_bytes()
        if self.baseline is None:
            # A loop's first thousand turns hold little but what bulk allocations (measured apart) made.
            self.baseline = resident
        elif resident - self.baseline > self.budget.bytes:
            raise BudgetExceeded(_memory_message(self.budget))

    def allow(self, wanted_bytes: float) -> None:
        """Refuse an allocation of `wanted_bytes` that the budget cannot hold, before it happens."""
        if wanted_bytes > self.budget.bytes:
            raise BudgetExceeded(_memory_message(self.budget))
        if self.baseline is None:
            self.baseline = _resident_bytes()
        self.pending += wanted_bytes
        # Several large allocations in a row: measure what they really hold before letting another through.
        if self.pending > self.budget.bytes / 4:
            self.check_memory()


_local = threading.local()


class spending:
    """Run the evaluation of a `with` block under a budget; an evaluation inside another keeps the outer deadline.

    A class rather than a generator: it is entered for every condition and DMN cell, and costs less this way.
    """

    __slots__ = ("_budget", "_outer")

    def __init__(self, budget: Budget):
        self._budget = budget
        self._outer: _Meter | None = None

    def __enter__(self) -> None:
        self._outer = getattr(_local, "meter", None)
        meter = _Meter(self._budget)
        if self._outer is not None:
            meter.deadline = min(meter.deadline, self._outer.deadline)
        _local.meter = meter

    def __exit__(self, *_exc) -> None:
        _local.meter = self._outer


def _meter() -> _Meter | None:
    return getattr(_local, "meter", None)


def checkpoint() -> bool:
    """A turn of a `while` loop: raise when the budget is spent; true, so that it can prefix the loop's test."""
    meter = _meter()
    if meter is not None:
        meter.tick()
    return True


def guarded_iterator(iterable) -> Iterator:
    """Iterate `iterable` turn by turn under the budget (RestrictedPython's `_getiter_`)."""
    meter = _meter()
    if meter is None:
        yield from iterable
        return
    for item in iterable:
        meter.tick()
        yield item


class BudgetRange:
    """`range` for analysts' code: the same numbers, but consumed under the budget, even by `list` or `sum`."""

    __slots__ = ("_range",)

    def __init__(self, *args: int):
        self._range = range(*args)

    def __iter__(self) -> Iterator[int]:
        return guarded_iterator(self._range)

    def __reversed__(self) -> Iterator[int]:
        return guarded_iterator(reversed(self._range))

    def __len__(self) -> int:
        return len(self._range)

    def __getitem__(self, index):
        found = self._range[index]
        return BudgetRange(found.start, found.stop, found.step) if isinstance(found, range) else found

    def __contains__(self, value) -> bool:
        return value in self._range

    def __eq__(self, other) -> bool:
        return isinstance(other, BudgetRange) and self._range == other._range

    def __hash__(self) -> int:
        return hash(self._range)

    def __repr__(self) -> str:
        return repr(self._range)


def multiply(left, right):
    """`left * right`, refused when it would build a sequence or text larger than the budget."""
    meter = _meter()
    if meter is not None:
        for sequence, count in ((left, right), (right, left)):
            if isinstance(sequence, (str, bytes, list, tuple)) and isinstance(count, int):
                unit = 1 if isinstance(sequence, (str, bytes)) else _ITEM_BYTES
                meter.allow(len(sequence) * max(count, 0) * unit)
    return left * right


def power(base, exponent):
    """`base ** exponent`, refused when the integer result would exceed the budget."""
    meter = _meter()
    if meter is not None and isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        meter.allow(exponent * math.log2(abs(base)) / 8)
    return base ** exponent


def shift_left(value, places):
    """`value << places`, refused when the result would exceed the budget."""
    meter = _meter()
    if meter is not None and isinstance(value, int) and isinstance(places, int) and value:
        meter.allow((value.bit_length() + max(places, 0)) / 8)
    return value << places


def remainder(left, right):
    """`left % right`: for a text format, its widths and precisions are checked first."""
    meter = _meter()
    if meter is not None and isinstance(left, str):
        for width, precision in _PERCENT_WIDTH.findall(left):
            for number in (width, precision):
                if number.isdigit():
                    meter.allow(int(number))
    return left % right


# Text methods whose size argument says how much they allocate.
_SIZED_METHODS = {"center": 0, "ljust": 0, "rjust": 0, "zfill": 0}


def guarded_method(owner, name: str, method):
    """A text method with its allocation checked first (`str.center(10 ** 9)`), else the method itself."""
    if not isinstance(owner, str) or _meter() is None:
        return method
    if name in _SIZED_METHODS:
        def sized(*args, **kwargs):
            if args and isinstance(args[0], int):
                _allow(args[0])
            return method(*args, **kwargs)
        return sized
    if name == "expandtabs":
        def expanded(tabsize=8):
            if isinstance(tabsize, int):
                _allow(owner.count("\t") * tabsize + len(owner))
            return method(tabsize)
        return expanded
    if name == "replace":
        def replaced(old, new, *args):
            if isinstance(old, str) and isinstance(new, str):
                occurrences = owner.count(old) if old else len(owner) + 1
                _allow(len(owner) + occurrences * max(len(new) - len(old), 0))
            return method(old, new, *args)
        return replaced
    return method


def formatted_value(value, conversion: int, spec: str) -> str:
    """An f-string's `{value!conversion:spec}`, its widths and precisions checked first (`{x:>1000000000}`)."""
    meter = _meter()
    if meter is not None:
        for number in _SPEC_NUMBERS.findall(spec):
            meter.allow(int(number))
    conversions: dict[int, Callable[[Any], Any]] = {ord("r"): repr, ord("s"): str, ord("a"): ascii}
    return format(conversions.get(conversion, _unchanged)(value), spec)


def _unchanged(value: Any) -> Any:
    return value


def _allow(wanted_bytes: float) -> None:
    meter = _meter()
    if meter is not None:
        meter.allow(wanted_bytes)


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_BYTES
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _seconds(seconds: float) -> str:
    return f"{seconds:g}".replace(".", ",") + " s"


def _memory_message(budget: Budget) -> str:
    return (f"le calcul dépasse sa limite de mémoire ({budget.megabytes} Mo) : il construit une liste ou un texte "
            "trop grand")
