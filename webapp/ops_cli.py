"""Operations commands: `flask --app webapp db check` after a crash, a restore or a migration."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from engine.ops.consistency import check_consistency
from handlers.formats import plural

db = AppGroup("db", help="Look after the database.")


@db.command("check")
def check_command() -> None:
    """Check that engine states, the task table and the audit trail agree; exit with 1 if not."""
    with current_app.extensions["db_sessions"]() as session:
        report = check_consistency(session)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if not report.ok:
        raise click.ClickException(f"{plural(len(report.problems), 'incohérence')} "
                                   f"sur {plural(report.instances, 'dossier')}.")
    click.echo(f"Base cohérente : vérification faite sur {plural(report.instances, 'dossier')} "
               f"et {plural(report.tasks, 'tâche')}.")
