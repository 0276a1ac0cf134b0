"""Error pages never depend on a database session in a failed state, nor on the database being there."""
from __future__ import annotations

import html

from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker


def failing_query(session, *_args, **_kwargs):
    # On PostgreSQL the request's transaction is aborted from here on: any further read through it fails.
    session.execute(text("SELECT * FROM table_absente"))


def test_a_failed_transaction_still_gets_the_french_error_page(app, browser, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    browser.login("referent.rennes")
    monkeypatch.setattr("webapp.inbox.inbox_page", failing_query)
    response = browser.client.get("/")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 500
    assert "Erreur interne" in page and "Votre saisie n'a pas été enregistrée" in page
    # The header is the usual one: the error page read the user and their notifications afresh.
    assert "Se déconnecter" in page and "Anne Le Goff" in page


def test_with_the_database_away_the_error_page_is_plain(app, browser, monkeypatch, tmp_path):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    browser.login("referent.rennes")
    away = create_engine(f"sqlite:///{tmp_path / 'absent' / 'base.db'}")
    monkeypatch.setitem(app.extensions, "db_sessions", sessionmaker(bind=away))
    response = browser.client.get("/")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 500
    assert "Erreur interne" in page and "ne peut pas lire ses données" in page
    away.dispose()
