"""Operations commands: `flask --app webapp db check` after a crash, a restore or a migration."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from engine.ops.consistency import check_consistency

db = AppGroup("db", help="Look after the database.")


@db.command("check")
def check_command() -> None:
    """Check that engine states, the task table and the audit trail agree; exit with 1 if not."""
    with current_app.extensions["db_sessions"]() as session:
        report = check_consistency(session)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if not report.ok:
        raise click.ClickException(f"{len(report.problems)} incohérence(s) sur {report.instances} dossier(s).")
    click.echo(f"Base cohérente : {report.instances} dossier(s) et {report.tasks} tâche(s) vérifiés.")
