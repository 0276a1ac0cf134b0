"""Logging in and out with local accounts, and who the current user is."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user

from engine.access import Principal
from engine.accounts import authenticate
from engine.models import Person
from webapp.database import db_session

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


@bp.route("/connexion", methods=("GET", "POST"))
def login():
    """Show the login form and log the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("inbox.home"))
    error = None
    login_value = ""
    if request.method == "POST":
        login_value = request.form.get("login", "")
        person = authenticate(db_session(), login_value, request.form.get("password", ""))
        if person is None:
            error = "Identifiant ou mot de passe incorrect."
        else:
            login_user(User(person))
            flash(f"Bonjour {person.first_name} !", "success")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, login_value=login_value), (401 if error else 200)


@bp.route("/deconnexion", methods=("POST",))
@login_required
def logout():
    """Log the user out."""
    logout_user()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a link send users elsewhere after login.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.home")
