"""Real servers for the tests that need separate processes: gunicorn with the project's config, redis."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(os.environ.get("VIRTUAL_ENV") or ROOT / ".venv") / "bin" / "gunicorn"
START_TIMEOUT = 60


@contextmanager
def served_in_thread(app):
    """Serve a WSGI app on a free loopback port from a thread of this process; yield its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def free_port() -> int:
    """A TCP port of the loopback nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, headers: dict | None = None,
         timeout: float = 30) -> tuple[int, dict | str]:
    """Send a request on a new connection; return the status and the JSON (or text) answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if body is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw, kind = response.status, response.read(), response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        status, raw, kind = error.code, error.read(), error.headers.get_content_type()
    text = raw.decode("utf-8")
    return status, json.loads(text) if kind == "application/json" else text


class Gunicorn:
    """gunicorn -c gunicorn.conf.py in its own process group, on a free loopback port."""

    def __init__(self, log_path: Path, env: dict[str, str], workers: int = 2):
        self.log_path = log_path
        self.env = {**os.environ, "WEB_CONCURRENCY": str(workers), "LOG_FORMAT": "json", **env}
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> Gunicorn:
        """Start the server and wait until its health check answers 200."""
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py")], cwd=ROOT,
                env={**self.env, "BIND": f"127.0.0.1:{port}"}, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn s'est arrêté au démarrage :\n{self.log()}")
            try:
                if http("GET", self.url + "/health", timeout=5)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn ne répond pas :\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL the master and every worker at once, as a power cut of the machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), killing whatever is left after 30 seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        """What the server wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


def accept_queue(port: int) -> int:
    """Connections waiting for a worker to accept them on a loopback listening port (Linux)."""
    waiting = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, queues = fields[1], fields[3], fields[4]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            waiting += int(queues.split(":")[1], 16)
    return waiting


class PinnedWorker:
    """Keep one sync worker busy: it accepted a request whose headers never end, until `release`.

    Gunicorn's sync workers serve one connection at a time, so while one is pinned the next
    requests go to the others: the tests choose which worker serves what without timing.
    """

    def __init__(self, url: str):
        host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.socket = socket.create_connection((host, self.port), timeout=30)
        self.socket.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\n".encode())
        deadline = time.monotonic() + START_TIMEOUT
        while accept_queue(self.port) and time.monotonic() < deadline:
            time.sleep(0.01)

    def release(self) -> bytes:
        """End the request and read the whole answer: the worker is free again."""
        self.socket.sendall(b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := self.socket.recv(65536):
            answer += chunk
        self.socket.close()
        return answer


class Redis:
    """A throw-away redis-server on a free loopback port, keeping nothing on disk."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The URL clients give to reach it."""
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> Redis:
        """Start it and wait until it accepts connections."""
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis-server ne répond pas")

    def stop(self) -> None:
        """Stop it."""
        self.process.terminate()
        self.process.wait(timeout=30)
