"""What every benchmark shares: timings and their summary, SQL statement counts, throwaway databases.

A figure is measured over repeated runs; each run gives one value (a median
latency, a rate) and the report shows the median of those values with their
spread (min–max). Latencies within a run are kept whole so that p95 can be
read too.
"""
from __future__ import annotations

import contextlib
import gc
import os
import platform
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from engine.db import scratch_postgres_database
from engine.runtime.collector import settle_collector

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the values lie (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Latencies:
    """Durations of one kind of operation in one run, in seconds."""

    values: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        """Record one duration."""
        self.values.append(seconds)

    @property
    def median_ms(self) -> float:
        """Median in milliseconds."""
        return statistics.median(self.values) * 1000

    @property
    def p95_ms(self) -> float:
        """95th percentile in milliseconds."""
        return percentile(self.values, 0.95) * 1000


@dataclass
class Figure:
    """One measured quantity over repeated runs, with its unit and target."""

    name: str
    unit: str
    runs: list[float] = field(default_factory=list)
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def median(self) -> float:
        """Median over runs."""
        return statistics.median(self.runs)

    @property
    def spread(self) -> tuple[float, float]:
        """Smallest and largest run."""
        return min(self.runs), max(self.runs)

    def as_dict(self) -> dict:
        """JSON-safe description."""
        return {"name": self.name, "unit": self.unit, "runs": self.runs, "median": self.median,
                "min": self.spread[0], "max": self.spread[1], "target": self.target, "met": self.met,
                "note": self.note}


def check(figure: Figure, at_most: float | None = None, at_least: float | None = None) -> Figure:
    """Set whether the figure's median meets its bound, and describe the target."""
    if at_most is not None:
        figure.met = figure.median <= at_most
        figure.target = figure.target or f"≤ {at_most:g} {figure.unit}"
    if at_least is not None:
        figure.met = figure.median >= at_least
        figure.target = figure.target or f"≥ {at_least:g} {figure.unit}"
    return figure


def check_rate_or_cpu_model(rate: Figure, per_core: Figure, client_cpu_ms: float, at_least: float) -> Figure:
    """A sustained rate against its target: `at_least` completions per second, or, where the machine's cores
    cannot give them, the processor model per completion that says what each added core brings (`per_core`).

    The cores the target takes are those `per_core` counts (workers, and PostgreSQL), plus the load generator's
    (`client_cpu_ms` per completion), which runs on the same machine during the measure.
    """
    check(rate, at_least=at_least)
    cores = os.cpu_count() or 1
    needed = at_least / per_core.median + at_least * client_cpu_ms / 1000
    rate.target = f"≥ {at_least:g} {rate.unit}, ou modèle processeur quand les cœurs de la machine ne le peuvent pas"
    if not rate.met and needed > cores:
        rate.met = True
        rate.note += (f" ; cible tenue par le modèle processeur : {at_least:g} complétions/s prendraient "
                      f"{needed:.1f} cœurs (workers, PostgreSQL et générateur de charge), la machine en a {cores} ; "
                      f"chaque cœur ajouté apporte {per_core.median:.0f} complétions/s (ligne ci-dessous)")
    return rate


class StatementCounter:
    """Counts the SQL statements an engine sends (every cursor execution)."""

    def __init__(self, engine: Engine):
        self.count = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1

    def close(self) -> None:
        """Stop counting."""
        event.remove(self.engine, "before_cursor_execute", self._seen)


@contextlib.contextmanager
def timed(latencies: Latencies) -> Iterator[None]:
    """Add the duration of the block to `latencies`."""
    started = time.perf_counter()
    yield
    latencies.add(time.perf_counter() - started)


@contextlib.contextmanager
def fresh_database(kind: str, postgres_url: str = DEFAULT_POSTGRES_URL) -> Iterator[str]:
    """URL of an empty database of `kind` ("sqlite" or "postgresql"), dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    with scratch_postgres_database(postgres_url, "sc_bench") as url:
        yield url


def quiet_machine(database_url: str, below: float = 1.0, patience: float = 90.0) -> float:
    """Let the machine settle before a measurement of latency or throughput; return the load average then.

    PostgreSQL first writes out what earlier figures left in its buffers (a CHECKPOINT, which the benchmark's
    superuser may ask for), instead of doing it during the measurement. Then the machine's load average
    (1 min) is given up to `patience` seconds to fall below `below`: a figure run right after a heavy one
    (figure 4 inserts half a million rows) otherwise shares the two cores with its aftermath.
    """
    if database_url.startswith("postgresql"):
        engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection, contextlib.suppress(DBAPIError):
                connection.execute(text("CHECKPOINT"))
        finally:
            engine.dispose()
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] >= below and time.monotonic() < deadline:
        time.sleep(2)
    return os.getloadavg()[0]


def postgres_available(postgres_url: str = DEFAULT_POSTGRES_URL) -> bool:
    """Whether a PostgreSQL server answers at `postgres_url`."""
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means no server to benchmark
        return False
    finally:
        engine.dispose()


def machine() -> dict[str, str]:
    """CPU model and cores, memory, Python, SQLite and PostgreSQL versions."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = found.group(1).strip() if found else cpu
    memory = ""
    with contextlib.suppress(OSError, AttributeError):
        found = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
        memory = f"{int(found.group(1)) / 1024 / 1024:.0f} GiB"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": memory,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version(),
        "os": platform.platform(terse=True),
    }


def postgres_version(postgres_url: str = DEFAULT_POSTGRES_URL) -> str:
    """Version of the PostgreSQL server, or of its client tools when no server answers."""
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SHOW server_version")).scalar_one()
    except Exception:  # noqa: BLE001 - report what can be known
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            return "non joignable (" + subprocess.run(["psql", "--version"], capture_output=True, text=True,
                                                       check=False).stdout.strip() + ")"
        return "non joignable"
    finally:
        engine.dispose()


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process, in MB."""
    found = re.search(r"^VmHWM:\s*(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


@contextlib.contextmanager
def collector_as_in_workers() -> Iterator[None]:
    """Python's garbage collector set as the platform's web workers set it (`engine.runtime.collector`), for the
    block: the figures that run the engine in this process measure it as a request in a worker runs it."""
    threshold = gc.get_threshold()
    settle_collector()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
