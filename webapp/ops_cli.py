"""Operations commands: `flask --app webapp db check` after a crash, a restore or a migration; `db repair`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from engine.ops.consistency import check_consistency
from engine.ops.repair import rejoin_ended_paths
from engine.progress import percent
from engine.runtime.runtime import paths_rejoined
from handlers.formats import number_fr, plural
from webapp.config import runtime_settings_of

db = AppGroup("db", help="Look after the database.")


def _reading(done: int, total: int) -> None:
    """Progress of a walk through the dossiers' stored states, on stderr: a minute or so at national scale."""
    click.echo(f"Dossiers lus : {number_fr(done)} / {number_fr(total)} ({percent(done, total)} %)", err=True)


@db.command("check")
def check_command() -> None:
    """Check that engine states, the task table and the audit trail agree; exit with 1 if not."""
    with current_app.extensions["db_sessions"]() as session:
        report = check_consistency(session, progress=_reading)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if not report.ok:
        raise click.ClickException(f"{plural(len(report.problems), 'incohérence')} "
                                   f"sur {plural(report.instances, 'dossier')}.")
    click.echo(f"Base cohérente : vérification faite sur {plural(report.instances, 'dossier')} "
               f"et {plural(report.tasks, 'tâche')}.")


@db.command("repair")
def repair_command() -> None:
    """Merge the ended volunteer paths that dossiers wait on for nothing (see `db check`); exit with 1 on a refusal."""
    def told(instance_id: int, outcome: int | str) -> None:
        if isinstance(outcome, str):
            click.echo(f"dossier {instance_id} : laissé tel quel ({outcome})", err=True)
        else:
            click.echo(f"dossier {instance_id} : {paths_rejoined(outcome)}")

    report = rejoin_ended_paths(current_app.extensions["db_sessions"], runtime_settings_of(current_app), told,
                                _reading)
    repaired = sum(1 for merged in report.rejoined.values() if merged)
    summary = (f"{plural(repaired, 'dossier réparé', 'dossiers réparés')} "
               f"sur {plural(report.examined, 'dossier en cours examiné', 'dossiers en cours examinés')}.")
    if report.refused:
        raise click.ClickException(f"{summary} {plural(len(report.refused), 'dossier laissé tel quel', 'dossiers laissés tels quels')} : voir ci-dessus.")
    click.echo(summary)
