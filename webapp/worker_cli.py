"""Background work from the command line (`flask --app webapp worker`) and, for the demo, in the server process."""
from __future__ import annotations

import logging
import signal
import threading

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from engine.runtime.worker import Worker
from webapp.config import runtime_settings_of, settings_of

log = logging.getLogger(__name__)


def worker_of(app: Flask, name: str | None = None) -> Worker:
    """A worker on the app's database, with the app's runtime and mail settings."""
    return Worker(app.extensions["db_sessions"], runtime_settings_of(app), settings_of(app).background(), name=name)


@click.command("worker")
@click.option("--once", is_flag=True, help="Un seul passage, puis s'arrêter.")
@click.option("--interval", type=float, default=None, help="Secondes entre deux passages (WORKER_INTERVAL).")
@click.option("--name", default=None, help="Nom du travailleur (par défaut : machine et numéro de processus).")
@with_appcontext
def worker(once: bool, interval: float | None, name: str | None) -> None:
    """Fire due BPMN timers, announce new tasks and send queued mail, in a loop (as many as needed may run)."""
    background = worker_of(current_app, name)
    if once:
        report = background.run_once()
        click.echo(f"Échéances traitées : {report.timers_fired} (échecs : {report.timers_failed}) ; "
                   f"tâches annoncées : {report.tasks_announced} ; courriels envoyés : {report.messages_sent}.")
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"Tâches de fond « {background.name} » : Ctrl-C pour arrêter.")
    background.run_forever(stop, interval or settings_of().worker_interval)


def start_in_process(app: Flask) -> threading.Thread | None:
    """In `flask run` with DEMO=1 or RUN_WORKER_IN_PROCESS=1 (never under tests), run a worker in a daemon thread.

    The demo then needs no second command: timers fire and mail is written to MAIL_DIR while the server runs.
    """
    settings = settings_of(app)
    wanted = settings.demo or settings.run_worker_in_process
    context = click.get_current_context(silent=True)
    if not wanted or app.testing or context is None or context.info_name != "run":
        return None
    stop = threading.Event()
    thread = threading.Thread(target=worker_of(app).run_forever, args=(stop, settings.worker_interval),
                              name="tâches-de-fond", daemon=True)
    thread.start()
    app.extensions["background_worker"] = (thread, stop)
    log.info("Tâches de fond démarrées dans le serveur (toutes les %s s).", settings.worker_interval)
    return thread
