"""`flask directory import FILE`: import an Isidoor directory file, with progress on stderr."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from engine.directory.import_report import KIND_LABELS, KIND_NAMES, OUTCOME_COUNTED, outcome_count, outcome_label
from engine.directory.importing import import_directory, record_file_error
from engine.directory.records import ImportFileError, read_document
from engine.progress import percent
from handlers.formats import number_fr, plural

directory = AppGroup("directory", help="Annuaire Isidoor : import des structures, établissements, personnes et rôles.")


def _progress(done: int, total: int) -> None:
    click.echo(f"Annuaire : {number_fr(done)} / {number_fr(total)} enregistrements ({percent(done, total)} %)", err=True)


@directory.command("import", help="Importer FICHIER (JSON, format décrit dans docs/directory-import.md) : crée, met "
                   "à jour, retire les rôles disparus et signale chaque enregistrement rejeté avec son motif.")
@click.argument("path", metavar="FICHIER", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--details", is_flag=True, help="Lister aussi les enregistrements créés, mis à jour et retirés "
              "sans valeur à corriger.")
def import_command(path: Path, details: bool) -> None:
    """Import FILE (JSON, see docs/directory-import.md): create, update, report rejections."""
    with current_app.extensions["db_sessions"]() as session:
        try:
            document = read_document(path.read_bytes())
        except ImportFileError as error:
            record_file_error(session, path.name, None, str(error))
            raise click.ClickException(str(error)) from error
        report, record = import_directory(session, document, source=path.name, progress=_progress)
    seconds = f"{(record.finished_at - record.started_at).total_seconds():.1f}".replace(".", ",")
    click.echo(f"Import n° {record.id} de {path.name} terminé en {seconds} s.")
    for kind, label in KIND_LABELS.items():
        counts = report.counts.get(kind)
        if counts:
            parts = [outcome_count(kind, o, counts[o]) for o in OUTCOME_COUNTED if counts[o]]
            click.echo(f"  {label} : " + ", ".join(parts))
    for entry in report.entries:
        if entry.outcome == "rejected" or entry.flagged or details:
            where = f" (position {entry.position})" if entry.position else ""
            message = " ; ".join(entry.messages)
            outcome = outcome_label(entry.kind, entry.outcome) + (", à corriger" if entry.flagged else "")
            click.echo(f"  [{outcome}] {KIND_NAMES[entry.kind]} {entry.key}{where}"
                       + (f" : {message}" if message else ""))
    if not report.changed:
        click.echo("Aucun changement : l'annuaire était déjà à jour.")
    if report.sessions_ended:
        click.echo(plural(report.sessions_ended, "session fermée", "sessions fermées") + " de comptes désactivés.")
