"""Command-line tasks: prepare the database, deploy processes, load the demo data and play its story."""
from __future__ import annotations

import logging
from datetime import datetime

import click
from flask import Flask, current_app

from engine.db import upgrade_database
from engine.demo.cast import DEMO_PATH
from engine.demo.directory import DEMO_PASSWORD, load_demo_data
from engine.demo.story import play_demo_story, story_can_start
from engine.demo.timeline import StoryError
from engine.mail import deliver_pending, transport_from_settings
from engine.runtime.deployment import DeploymentError, deploy, read_definition_files
from handlers.formats import plural
from webapp import directory_cli, ops_cli, privacy_cli, process_cli, sessions_cli, worker_cli
from webapp.config import settings_of


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    app.cli.add_command(setup_command)
    app.cli.add_command(processes)
    app.cli.add_command(notifications)
    app.cli.add_command(privacy_cli.gdpr)
    app.cli.add_command(privacy_cli.tokens)
    app.cli.add_command(sessions_cli.sessions)
    app.cli.add_command(directory_cli.directory)
    app.cli.add_command(ops_cli.db)
    app.cli.add_command(worker_cli.worker)
    worker_cli.start_in_process(app)


def _sessions():
    return current_app.extensions["db_sessions"]


@click.command("setup")
@click.option("--demo/--no-demo", default=True, help="Charger les données de démonstration.")
def setup_command(demo: bool) -> None:
    """Migrate the database, deploy the processes and load the demo data (idempotent)."""
    upgrade_database(settings_of().database_url)
    click.echo("Base de données à jour.")
    _deploy()
    if demo:
        with _sessions()() as session:
            _play_story(session)
            load_demo_data(session)
        click.echo("Données de démonstration chargées.")


def _play_story(session) -> None:
    """The demo story, on a database without campaigns or dossiers only: a second `make run` keeps what users did."""
    if not story_can_start(session):
        click.echo("La base contient déjà des campagnes ou des dossiers : l'histoire de démonstration n'est pas "
                   "rejouée (supprimez instance/campagne.db pour repartir d'une démonstration neuve).")
        return
    # The story completes hundreds of tasks and writes a few dozen PDFs: its own lines say what happens.
    chatty = {name: logging.getLogger(name).level for name in ("engine.runtime", "weasyprint")}
    for name in chatty:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        report = play_demo_story(session, settings_of().storage_dir, datetime.now(), say=click.echo)
    except StoryError as error:
        raise click.ClickException(f"Histoire de démonstration interrompue : {error}") from error
    finally:
        for name, level in chatty.items():
            logging.getLogger(name).setLevel(level)
    click.echo(f"Histoire jouée : {report.dossiers} dossiers, {report.ready_tasks} tâches à faire, "
               f"{report.messages} courriels en file d'attente. Parcours du jour (mot de passe {DEMO_PASSWORD}) :")
    for step, login, _task, what in DEMO_PATH:
        click.echo(f"  étape {step} : {login} — {what}")


@click.group("processes")
def processes() -> None:
    """Manage the process definitions."""


processes.add_command(process_cli.validate_command)
processes.add_command(process_cli.test_command)


@processes.command("deploy")
def deploy_command() -> None:
    """Deploy processes/ and forms/ as a new version if they changed."""
    _deploy()


def _deploy() -> None:
    files = read_definition_files(settings_of().processes_dir, settings_of().forms_dir)
    with _sessions()() as session:
        try:
            deployment = deploy(session, files, actor="cli")
        except DeploymentError as error:
            raise click.ClickException(f"Déploiement impossible : {error}") from error
        session.commit()
        click.echo(f"Processus déployés : version {deployment.id} ({', '.join(deployment.process_ids)}).")


@click.group("notifications")
def notifications() -> None:
    """Manage outgoing messages."""


@notifications.command("send")
def send_notifications_command() -> None:
    """Send the queued messages due now through SMTP_URL (or write them to MAIL_DIR)."""
    mail = settings_of().mail()
    transport = transport_from_settings(mail)
    if transport is None:
        raise click.ClickException("Ni SMTP_URL ni MAIL_DIR n'est défini : les messages restent en file d'attente.")
    with _sessions()() as session:
        sent = deliver_pending(session, transport, mail["MAIL_SENDER"], base_url=mail["BASE_URL"])
    click.echo(plural(sent, "message envoyé", "messages envoyés") + ".")
