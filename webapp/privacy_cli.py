"""Administrator commands for personal data (GDPR) and API tokens."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, or_, select

from engine.campaign.gdpr import anonymise_volunteers, export_person
from engine.directory.tokens import end_all_sessions
from engine.documents import DocumentStore
from engine.models import Person
from handlers.formats import date_fr, plural
from webapp.config import settings_of


def _sessions():
    return current_app.extensions["db_sessions"]


gdpr = AppGroup("gdpr", help="Export or anonymise personal data.")


@gdpr.command("export")
@click.argument("person")
def export_command(person: str) -> None:
    """Print as JSON everything held about PERSON (a login, or an email, a volunteer's included)."""
    with _sessions()() as session:
        export = export_person(session, person, datetime.now())
    if export is None:
        raise click.ClickException(f"Aucune donnée trouvée pour « {person} ».")
    click.echo(json.dumps(export, ensure_ascii=False, indent=2, default=_as_text))


def _as_text(value) -> str:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else str(value)


@gdpr.command("anonymise")
@click.option("--older-than-days", type=click.IntRange(min=0), default=None,
              help="Délai après la fin de la campagne pour les champs sans durée de conservation propre "
                   "(défaut : GDPR_RETENTION_DAYS, 365).")
def anonymise_command(older_than_days: int | None) -> None:
    """Anonymise the volunteers of campaigns that ended more than the given number of days ago.

    Fields whose form declares another retention (`"x-personal": {"retention": …}`) follow it instead.
    """
    days = settings_of().gdpr_retention_days if older_than_days is None else older_than_days
    today = datetime.now().date()
    cutoff = today - timedelta(days=days)
    with _sessions()() as session:
        done = anonymise_volunteers(session, DocumentStore(settings_of().storage_dir), today, days, datetime.now())
    click.echo(plural(len(done), "dossier anonymisé", "dossiers anonymisés")
               + f" (campagnes terminées avant le {date_fr(cutoff)})"
               + (f" : {', '.join(map(str, done))}." if done else "."))


tokens = AppGroup("tokens", help="Manage API tokens.")


@tokens.command("revoke")
@click.argument("person")
def revoke_command(person: str) -> None:
    """Revoke every API token of PERSON (a login or an email)."""
    key = person.strip().lower()
    with _sessions()() as session:
        found = session.scalar(select(Person).where(or_(func.lower(Person.login) == key,
                                                        func.lower(Person.email) == key)))
        if found is None:
            raise click.ClickException(f"Aucun compte « {person} ».")
        ended = end_all_sessions(session, found.id, datetime.now())
    click.echo(plural(ended.tokens, "jeton révoqué", "jetons révoqués") + " et "
               + plural(ended.web_sessions, "session fermée", "sessions fermées") + f" pour {found.full_name}.")
