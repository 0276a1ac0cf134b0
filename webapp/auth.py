"""Logging in with local accounts, logging out (of Isidoor too), and who the current user is, session by session."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from engine.access import Principal
from engine.directory.accounts import authenticate
from engine.directory.web_sessions import end_person_sessions, open_web_session, resume_web_session
from engine.models import Person, WebSession
from webapp.config import settings_of
from webapp.database import db_session
from webapp.oidc import provider_of

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Connectez-vous pour accéder à cette page."
login_manager.login_message_category = "info"


# The key of the web session id in the signed cookie, beside flask-login's user id.
SESSION_ID = "web_session"


class User(UserMixin):
    """The logged-in person, with their scopes and the web session they use."""

    def __init__(self, person: Person, web_session: WebSession):
        self.person = person
        self.web_session = web_session
        self.id = str(person.id)
        self.principal = Principal.of(person)


def init_app(app: Flask) -> None:
    """Attach flask-login to the app."""
    login_manager.init_app(app)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Reload the user of a session while its record in the database holds (engine.directory.web_sessions)."""
    session_id = session.get(SESSION_ID)
    found = resume_web_session(db_session(), session_id, settings_of().clock(), settings_of().session_limits()) \
        if isinstance(session_id, str) else None
    if found is None or str(found[1].id) != user_id:
        # The cookie of an ended session stops naming anyone; flashed messages stay.
        for key in ("_user_id", "_fresh", "_id", SESSION_ID):
            session.pop(key, None)
        return None
    record, person = found
    return User(person, record)


def start_session(person: Person, via: str, id_token: str | None = None) -> None:
    """Open a new web session for `person` and log them in with it, starting from an empty cookie."""
    session_id, record = open_web_session(db_session(), person, settings_of().clock(), settings_of().session_limits(),
                                          via=via, id_token=id_token, user_agent=request.user_agent.string,
                                          address=request.remote_addr)
    # A fresh cookie: nothing from before the login (pending Isidoor logins, an earlier account) carries over.
    session.clear()
    login_user(User(person, record))
    session[SESSION_ID] = session_id
    # Permanent: the browser drops the cookie after SESSION_IDLE_MINUTES without a page; the server ends the
    # session then too, and after SESSION_MAX_HOURS in any case.
    session.permanent = True


def principal() -> Principal:
    """Scopes of the current user."""
    return current_user.principal


def render_login(error: str | None = None, status: int = 200, login_value: str = ""):
    """The login page: Isidoor's button when configured, the local form unless switched off, and an error."""
    page = render_template("auth/login.html", error=error, login_value=login_value,
                           isidoor=provider_of(current_app) is not None,
                           local_login=settings_of().local_login_enabled, next=request.args.get("next"))
    return page, status


@bp.route("/connexion", methods=("GET", "POST"))
def login():
    """Show the login page and log the user in with a local account."""
    if current_user.is_authenticated:
        return redirect(url_for("inbox.home"))
    if request.method == "GET":
        return render_login()
    if not settings_of().local_login_enabled:
        return render_login(error="La connexion par identifiant et mot de passe est désactivée : "
                                  "connectez-vous avec Isidoor.", status=403)
    login_value = request.form.get("login", "")
    person = authenticate(db_session(), login_value, request.form.get("password", ""))
    if person is None:
        return render_login(error="Identifiant ou mot de passe incorrect.", status=401, login_value=login_value)
    start_session(person, "password")
    return redirect(safe_next(request.args.get("next")))


@bp.route("/deconnexion", methods=("POST",))
@login_required
def logout():
    """End every platform session of the person and, after a login through Isidoor, Isidoor's session too."""
    record = current_user.web_session
    through_isidoor, id_token = record.via == "isidoor", record.id_token
    # All of them: a cookie copied from this browser, or left open on another computer, closes too.
    end_person_sessions(db_session(), current_user.person.id, settings_of().clock(), "logout")
    logout_user()
    session.clear()
    provider = provider_of(current_app)
    end_session = provider.end_session_url(id_token, url_for("auth.login", _external=True)) \
        if provider is not None and through_isidoor else None
    if end_session is not None:
        flash("Déconnexion de la plateforme effectuée ; votre session Isidoor est fermée si vous l'avez "
              "confirmé sur sa page.", "info")
        return redirect(end_session)
    flash("Déconnexion effectuée.", "info")
    return redirect(url_for("auth.login"))


def safe_next(target: str | None) -> str:
    """`target` when it is a path of this site, else the inbox."""
    # Only local paths: an open redirect would let a link send users elsewhere after login.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.home")
