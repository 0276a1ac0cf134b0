"""A worker in a process of its own, for the tests that run several at once or kill one.

Usage: python worker_process.py DATABASE_URL STORAGE_DIR NAME ISO_TIME MAIL_DIR [hang]

It waits for a line on its standard input (so that several start together), runs one pass with
its clock at ISO_TIME and prints what it did as JSON. With `hang`, the handler of the monthly
follow-up writes `<MAIL_DIR>/<NAME>.hanging` and never returns, so that the test can kill the
process in the middle of firing a timer.
"""
from __future__ import annotations

import json
import sys
import threading
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import handlers
from engine.db import make_engine, make_session_factory
from engine.runtime.runtime import RuntimeSettings
from engine.runtime.worker import Worker


def main(url: str, storage: str, name: str, when: str, mail_dir: str, mode: str = "") -> None:
    """Run one pass of a worker when told to start."""
    if mode == "hang":
        def hang(_context, **_params):
            Path(mail_dir, f"{name}.hanging").write_text("firing", encoding="utf-8")
            threading.Event().wait()

        handlers.HANDLERS["prepare_follow_up"] = hang
    sessions = make_session_factory(make_engine(url))
    worker = Worker(sessions, RuntimeSettings(Path(storage)), {"MAIL_DIR": mail_dir, "MAIL_SENDER": "sc@example.org"},
                    name=name, clock=lambda: datetime.fromisoformat(when))
    sys.stdin.readline()
    print(json.dumps(asdict(worker.run_once())), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
