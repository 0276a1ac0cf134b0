"""Help: whom to ask about what, and a step-by-step guide per role illustrated with screenshots.

The screenshots are the PNG files of `docs/screenshots/`, made by `make screenshots`
(scripts/screenshots.py) and served from there by `screenshot`, so that the guide and
the README show the same images and nothing is copied twice.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required

from engine.access import Principal
from engine.directory.contacts import ISIDOOR_SUPPORT, platform_contacts
from webapp.auth import principal
from webapp.database import db_session

bp = Blueprint("help", __name__, url_prefix="/aide")
SCREENSHOTS_DIR = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
_SCREENSHOT_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,80}\.png")


@dataclass(frozen=True)
class Guide:
    """A role's guide: its title and who it is for."""

    title: str
    audience: str


GUIDES = {
    "referent": Guide("Guide du référent", "référents (chef d'établissement ou personne nommée)"),
    "tuteur": Guide("Guide du tuteur et du cotuteur", "tuteurs et cotuteurs des volontaires"),
    "gestionnaire": Guide("Guide du gestionnaire", "gestionnaires des Udogec, Urogec et de la Fnogec"),
    "pilote": Guide("Guide du responsable de processus", "responsables de processus et administrateurs"),
}


def guide_roles(me: Principal) -> list[str]:
    """The guides that concern a person, from their roles."""
    roles = []
    if me.establishments.get("referent"):
        roles.append("referent")
    if me.establishments.get("tuteur") or me.establishments.get("cotuteur"):
        roles.append("tuteur")
    if me.is_gestionnaire:
        roles.append("gestionnaire")
    if me.process_owner:
        roles.append("pilote")
    return roles


@bp.app_template_global()
def guides_for_user() -> list[tuple[str, Guide]]:
    """(slug, guide) of the guides of the logged-in user's roles, for links from any page."""
    if not current_user.is_authenticated:
        return []
    return [(role, GUIDES[role]) for role in guide_roles(current_user.principal)]


@bp.route("/")
@login_required
def show():
    """Show Isidoor support for access, roles and the school file, the user's gestionnaires, and the guides."""
    return render_template("help/show.html", support=ISIDOOR_SUPPORT,
                           contacts=platform_contacts(db_session(), principal()), guides=GUIDES,
                           mine=guide_roles(principal()))


@bp.route("/guides/<role>")
@login_required
def guide(role: str):
    """A role's step-by-step guide (any logged-in person may read any guide)."""
    if role not in GUIDES:
        abort(404)
    return render_template(f"help/guide_{role}.html", guide=GUIDES[role], role=role, guides=GUIDES)


@bp.route("/captures/<name>")
@login_required
def screenshot(name: str):
    """A screenshot of `docs/screenshots/` shown in the guides."""
    path = SCREENSHOTS_DIR / name
    if not _SCREENSHOT_NAME.fullmatch(name) or not path.is_file():
        abort(404)
    # Read whole (each is under 300 KB): a file left open would leak when a reader leaves before the end.
    response = Response(path.read_bytes(), mimetype="image/png")
    response.cache_control.max_age = 3600
    response.add_etag()
    return response.make_conditional(request)
