"""`flask sessions end PERSON`: « Mettre fin à toutes les sessions » from the command line."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from engine.directory.accounts import find_account
from engine.directory.tokens import end_all_sessions
from handlers.formats import plural
from webapp.config import settings_of

sessions = AppGroup("sessions", help="Sessions des comptes : y mettre fin quand un compte est compromis.")


@sessions.command("end", help="Fermer toutes les sessions web de PERSONNE (identifiant ou adresse électronique) "
                  "et révoquer ses jetons d'API ; elle pourra se reconnecter.")
@click.argument("person", metavar="PERSONNE")
def end_command(person: str) -> None:
    """End every web session of PERSON (a login or an email) and revoke their API tokens."""
    with current_app.extensions["db_sessions"]() as session:
        found = find_account(session, person)
        if found is None:
            raise click.ClickException(f"Aucun compte « {person} ».")
        ended = end_all_sessions(session, found.id, settings_of().clock())
    click.echo(f"{found.full_name} : {plural(ended.web_sessions, 'session fermée', 'sessions fermées')}, "
               + plural(ended.tokens, "jeton d'API révoqué", "jetons d'API révoqués") + ".")
