"""Commands analysts run on their files: `processes validate` and `processes test`."""
from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from pathlib import Path

import click
from flask.cli import with_appcontext

from engine.runtime.deployment import read_definition_files
from engine.scenarios import ScenarioCoverage, find_scenarios, run_scenarios
from engine.validation import PathError, collect_files, validate_files
from handlers.formats import plural
from webapp.config import settings_of
from webapp.tasks import PANELS_DIR


def _no_traceback(command):
    """Say an unforeseen failure of a command in French, with its detail, instead of a Python traceback."""
    @functools.wraps(command)
    def guarded(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (click.ClickException, SystemExit):
            raise
        except Exception as error:  # an analyst reads this command's output: no traceback, ever
            click.echo(f"Erreur inattendue de la plateforme (détail : {type(error).__name__} : {error}) ; "
                       "signalez-la à l'équipe technique avec vos fichiers.", err=True)
            raise SystemExit(1) from error
    return guarded


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@with_appcontext
@_no_traceback
def validate_command(paths: tuple[Path, ...]) -> None:
    """Check BPMN, DMN and form files (default: all of processes/ and forms/); exit 1 on errors.

    Task panels and the handler registries are checked against the files too: each must name a user task.
    """
    try:
        files, targets = collect_files(paths, settings_of().processes_dir, settings_of().forms_dir)
    except PathError as error:
        raise click.ClickException(str(error)) from error
    except OSError as error:
        raise click.ClickException(f"{error.filename} : lecture impossible ({error.strerror}).") from error
    # The files are the project's whole set (paths only replace some): its panels and handler registries are
    # checked against them.
    report = validate_files(files, targets, panels_dir=PANELS_DIR, registries=True)
    for problem in report.problems:
        click.echo(str(problem))
    click.echo(report.summary())
    if not report.ok:
        raise SystemExit(1)


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--coverage", "show_coverage", is_flag=True,
              help="Afficher ensuite ce que les scénarios n'ont jamais atteint (tâches, passages, règles, limites).")
@click.option("--min-coverage", type=click.IntRange(0, 100), default=None,
              help="Échouer aussi si la couverture est sous ce pourcentage (implique --coverage).")
@with_appcontext
@_no_traceback
def test_command(paths: tuple[Path, ...], show_coverage: bool, min_coverage: int | None) -> None:
    """Play the scenarios (default: processes/scenarios/*.yaml) on a throwaway database; exit 1 on a failure.

    With `--coverage`, print what no scenario exercised: information only, unless `--min-coverage` sets a floor.
    """
    processes_dir = settings_of().processes_dir
    scenario_files = find_scenarios(paths, processes_dir / "scenarios")
    if not scenario_files:
        raise click.ClickException(f"Aucun scénario dans {processes_dir / 'scenarios'}.")
    files = read_definition_files(processes_dir, settings_of().forms_dir)
    coverage = ScenarioCoverage(files) if show_coverage or min_coverage is not None else None
    with _quiet("alembic", "engine", "weasyprint", "fontTools"):
        outcomes = run_scenarios(scenario_files, files, reporter=lambda outcome: click.echo(outcome.report()),
                                 coverage=coverage)
    failed = sum(1 for outcome in outcomes if not outcome.passed)
    click.echo(f"{plural(len(outcomes), 'scénario')} : {plural(len(outcomes) - failed, 'réussi')}, "
               f"{failed} en échec.")
    below = False
    if coverage is not None:
        report = coverage.report()
        click.echo("")
        for line in report.lines():
            click.echo(line)
        below = min_coverage is not None and report.percent < min_coverage
        if below:
            click.echo(f"Couverture de {report.percent} % sous le minimum demandé de {min_coverage} %.")
    if failed or below:
        raise SystemExit(1)


@contextmanager
def _quiet(*names: str):
    """Silence the migration and task-completion logs that would drown the scenario report."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=False):
            logger.setLevel(level)
