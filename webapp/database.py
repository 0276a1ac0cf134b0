"""One SQLAlchemy session per request, from the engine package's session factory."""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from engine.db import make_engine, make_session_factory
from webapp.config import settings_of


def init_app(app: Flask) -> None:
    """Create the database engine of the app and close sessions after each request."""
    engine = make_engine(settings_of(app).database_url)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessions"] = make_session_factory(engine)
    app.teardown_appcontext(_close_session)


def db_session() -> Session:
    """The session of the current request, opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessions"]()
    return g.db_session


def _close_session(_error=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
