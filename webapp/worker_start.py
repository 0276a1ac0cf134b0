"""What a web worker does once started, before its first request: warm up, then settle its garbage collector.

Workers are replaced every couple of thousand requests (gunicorn.conf.py's `max_requests`), so a worker's first
requests come back every day: without this, its first completion of each task type took 3 to 23 ms more than
the next, and its first home page 155 ms instead of 15 (templates compiled, SQL compiled at its first run).
"""
from __future__ import annotations

import logging
import time

from flask import Flask

from engine.runtime.collector import settle_collector
from engine.runtime.warm_up import warm_up

log = logging.getLogger(__name__)


def ready_worker(app: Flask) -> None:
    """Warm the worker up (`engine.runtime.warm_up`, page templates), then freeze what it holds.

    A failure is logged and the worker serves as it would without the warm-up.
    """
    started = time.perf_counter()
    try:
        warmed = warm_up(app.extensions["db_sessions"])
        templates = compile_templates(app)
    except Exception:
        # Only an optimisation: a database not yet reachable, or a deployment that fails to parse, must not keep
        # every worker from starting; the requests that need them report the problem themselves.
        log.warning("Préparation du worker impossible ; il démarre sans", exc_info=True)
    else:
        done = (f"{warmed.forms} formulaires, {warmed.scripts} scripts et conditions, {warmed.statements} requêtes, "
                if warmed is not None else "aucun processus déployé, ")
        log.info("Worker prêt en %.0f ms : %s%d gabarits de pages", (time.perf_counter() - started) * 1000, done,
                 templates)
    settle_collector()


def compile_templates(app: Flask) -> int:
    """Compile every page template (Jinja keeps them), so that no first page view pays for it; how many."""
    names = [name for name in app.jinja_env.list_templates() if name.endswith(".html")]
    for name in names:
        app.jinja_env.get_template(name)
    return len(names)
