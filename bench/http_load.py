"""Figures 5 and 6: completing tasks through the JSON API of gunicorn workers, and their memory.

The server is `gunicorn 'webapp:create_app()'` on loopback with bench/gunicorn_conf.py
(which adds the SQL statement count of each response). The load generator is
threads of the standard library's HTTP client, each completing the tasks of
its own hosting projects with bearer tokens, so no two clients ever touch the
same instance: any non-2xx answer is an error. Each instance goes through the
campaign's tasks up to the contract (its PDF is a document cost).
"""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from bench.measure import ROOT, Latencies, peak_rss_mb
from bench.workload import CONTRACT_TASK, MAX_STEPS, add_schools, campaign_samples, reviewer_id, step_data
from engine.access import Principal
from engine.campaign.campaigns import current_campaign
from engine.directory.tokens import token_digest
from engine.models import ApiToken, Establishment, Person, TaskRow
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings

# What /proc counts CPU time in.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port free on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running gunicorn master on loopback."""

    process: subprocess.Popen
    port: int

    def workers(self) -> list[int]:
        """Process ids of the master's workers."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[1]) == self.process.pid:
                        found.append(int(entry.name))
        return found

    def cpu_seconds(self) -> dict[int, float]:
        """User and system CPU time each worker has used so far, in seconds, by process id."""
        return cpu_seconds(self.workers())

    def peak_worker_rss_mb(self) -> float:
        """Largest peak resident memory among the workers, in MB."""
        return max((peak_rss_mb(pid) for pid in self.workers()), default=0.0)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User and system CPU time of processes (from /proc/<pid>/stat), in seconds, by process id."""
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


def database_backends(url: str) -> list[int]:
    """Process ids of the PostgreSQL server processes serving the database of `url` (none for SQLite).

    PostgreSQL titles each backend « postgres: <user> <database> <client> <state> »: the benchmark's database has
    a name of its own, so the processes of other databases on the same server are left out.
    """
    if not url.startswith("postgresql"):
        return []
    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
                # After the cluster's name on Debian (« postgres: 15/main: <user> <database> … »).
                if title[:1] == ["postgres:"] and name in title[1:4]:
                    found.append(int(entry.name))
    return found


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    # A process that appeared during the run (a new connection) counts from zero.
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@contextlib.contextmanager
def serve(url: str, storage_dir: Path, workers: int = 4):
    """Run gunicorn with `workers` workers on the database at `url` until the block ends."""
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(16),
                   "STORAGE_DIR": str(storage_dir), "PYTHONPATH": str(ROOT)}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "-c", str(Path(__file__).parent / "gunicorn_conf.py"), "webapp:create_app()"],
        cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    server = Server(process, port)
    try:
        _wait_ready(server, log)
        yield server
    finally:
        process.send_signal(signal.SIGINT)  # quick shutdown: the load is over
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_ready(server: Server, log, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log.seek(0)
            raise RuntimeError("gunicorn s'est arrêté : " + log.read().decode(errors="replace")[-2000:])
        with contextlib.suppress(OSError):
            status = request(server.port, "GET", "/api/v1/openapi.json").status
            if status == 200 and len(server.workers()) > 0:
                return
        time.sleep(0.2)
    raise RuntimeError("gunicorn ne répond pas.")


@dataclass(frozen=True)
class Reply:
    """What a request got: its status, its JSON answer, the SQL statements and the time the worker spent on it."""

    status: int
    answer: dict
    statements: int
    server_ms: float


def request(port: int, method: str, path: str, token: str | None = None, body: dict | None = None) -> Reply:
    """One HTTP request on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        answer = json.loads(payload) if payload and response.getheader("Content-Type", "").startswith(
            "application/json") else {}
        return Reply(response.status, answer, int(response.getheader("X-Bench-Sql") or -1),
                     float(response.getheader("X-Bench-Ms") or "nan"))
    finally:
        connection.close()


@dataclass
class Walk:
    """One hosting project walked through its tasks before the contract by one client."""

    instance_id: int
    task_id: str
    spec_id: str
    lane: str
    tokens: dict[str, str]
    samples: dict
    steps: int = 0


@dataclass
class LoadResult:
    """What a load run observed."""

    completions: int = 0
    errors: list[str] = field(default_factory=list)
    latencies: Latencies = field(default_factory=Latencies)
    # The part of each latency spent in the worker, from the app's call to its response (X-Bench-Ms).
    in_worker: Latencies = field(default_factory=Latencies)
    statements: list[int] = field(default_factory=list)
    elapsed: float = 0.0
    # CPU seconds (user + system) used during the run by the gunicorn workers, the database's server processes
    # (PostgreSQL) and the load generator itself, and the machine's load average (1 min) at its end.
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    client_cpu: float = 0.0
    load_average: float = 0.0


def prepare_walks(sessions, storage_dir: Path, count: int, first_number: int) -> list[Walk]:
    """Start `count` hosting projects in new schools and issue the tokens of their actors."""
    with sessions() as session:
        schools = add_schools(session, count, first_number)
        campaign = current_campaign(session)
        reviewer = reviewer_id(session)
        tokens, rows = {}, []
        for person_id in {reviewer, *(s.referent_id for s in schools), *(s.tuteur_id for s in schools)}:
            tokens[person_id] = secrets.token_urlsafe(24)
            rows.append({"person_id": person_id, "token_hash": token_digest(tokens[person_id]),
                         "created_at": datetime.now(), "expires_at": datetime.now() + timedelta(days=1)})
        session.execute(insert(ApiToken), rows)
        session.commit()
        runtime = ProcessRuntime(session, RuntimeSettings(storage_dir))
        walks = []
        for n, school in enumerate(schools):
            principal = Principal.of(session.get(Person, school.referent_id))
            instance = runtime.start("hosting_project", principal,
                                     establishment=session.get(Establishment, school.establishment_id),
                                     campaign=campaign.school_year)
            row = session.execute(select(TaskRow.id, TaskRow.spec_id, TaskRow.lane)
                                  .where(TaskRow.instance_id == instance.id, TaskRow.state == "ready")).first()
            walks.append(Walk(instance.id, row.id, row.spec_id, row.lane,
                              {"referent": tokens[school.referent_id], "tuteur": tokens[school.tuteur_id],
                               "gestionnaire": tokens[reviewer]},
                              campaign_samples(campaign, first_number + n)))
    return walks


def complete_next(port: int, walk: Walk, result: LoadResult) -> bool:
    """Complete the walk's current task; return whether the walk has more to do before the contract."""
    started = time.perf_counter()
    reply = request(port, "POST", f"/api/v1/tasks/{walk.task_id}/complete", walk.tokens.get(walk.lane),
                    step_data(walk.samples, walk.spec_id))
    elapsed = time.perf_counter() - started
    answer = reply.answer
    if reply.status != 200:
        result.errors.append(f"{walk.spec_id} : HTTP {reply.status} {str(answer)[:200]}")
        return False
    result.completions += 1
    result.latencies.add(elapsed)
    result.in_worker.add(reply.server_ms / 1000)
    result.statements.append(reply.statements)
    walk.steps += 1
    following = next((task for task in answer["instance"]["tasks"] if task["role"] in walk.tokens), None)
    if following is None or following["name"] == CONTRACT_TASK or walk.steps >= MAX_STEPS:
        return False
    walk.task_id, walk.spec_id, walk.lane = following["id"], following["name"], following["role"]
    return True


def run_load(port: int, walks: list[Walk], clients: int, duration: float, server: Server | None = None,
             database_url: str = "") -> LoadResult:
    """Complete tasks with `clients` threads for `duration` seconds, or until the walks are done.

    With `server` (and the database's URL), the CPU time its workers and the database's processes used is
    measured too.
    """
    result = LoadResult()
    workers_before = server.cpu_seconds() if server is not None else {}
    database_before = cpu_seconds(database_backends(database_url))
    client_before = sum(os.times()[:2])
    lock = threading.Lock()
    deadline = time.monotonic() + duration
    shares = [walks[n::clients] for n in range(clients)]

    def client(own: list[Walk]) -> None:
        local = LoadResult()
        active = list(own)
        while active and time.monotonic() < deadline and not local.errors:
            for walk in list(active):
                if not complete_next(port, walk, local):
                    active.remove(walk)
                if time.monotonic() >= deadline or local.errors:
                    break
        with lock:
            result.completions += local.completions
            result.errors += local.errors
            result.latencies.values += local.latencies.values
            result.in_worker.values += local.in_worker.values
            result.statements += local.statements

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - started
    result.client_cpu = sum(os.times()[:2]) - client_before
    if server is not None:
        result.server_cpu = _spent(workers_before, server.cpu_seconds())
    result.database_cpu = _spent(database_before, cpu_seconds(database_backends(database_url)))
    result.load_average = os.getloadavg()[0]
    return result
