"""Waiting for the scenario runs the web app started in the background, as a person waits for the page."""
from __future__ import annotations

import threading

from engine.scenarios.runs import THREAD_PREFIX


def finish_scenario_runs() -> int:
    """Wait until every scenario run thread has ended; return how many there were."""
    threads = [thread for thread in threading.enumerate() if thread.name.startswith(THREAD_PREFIX)]
    for thread in threads:
        thread.join()
    return len(threads)
