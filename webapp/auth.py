"""Logging in with local accounts, logging out (of Isidoor too), and who the current user is."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from engine.access import Principal
from engine.directory.accounts import authenticate
from engine.models import Person
from webapp.config import settings_of
from webapp.database import db_session
from webapp.oidc import provider_of

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Connectez-vous pour accéder à cette page."
login_manager.login_message_category = "info"


class User(UserMixin):
    """The logged-in person, with their scopes."""

    def __init__(self, person: Person):
        self.person = person
        self.id = str(person.id)
        self.principal = Principal.of(person)


def init_app(app: Flask) -> None:
    """Attach flask-login to the app."""
    login_manager.init_app(app)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Reload the user of a session; a deactivated account is logged out."""
    person = db_session().get(Person, int(user_id)) if user_id.isdigit() else None
    if person is None or not person.active:
        return None
    return User(person)


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
    session.clear()
    login_user(User(person))
    # Permanent: the session ends after PERMANENT_SESSION_LIFETIME without activity, cookie included.
    session.permanent = True
    return redirect(safe_next(request.args.get("next")))


@bp.route("/deconnexion", methods=("POST",))
@login_required
def logout():
    """End the platform session and, after a login through Isidoor, Isidoor's session too."""
    through_isidoor, id_token = session.get("oidc_login"), session.get("oidc_id_token")
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
