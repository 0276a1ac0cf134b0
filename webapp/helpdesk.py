"""Help page: whom to ask about what."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from engine.contacts import ISIDOOR_SUPPORT, platform_contacts
from webapp.auth import principal
from webapp.database import db_session

bp = Blueprint("help", __name__, url_prefix="/aide")


@bp.route("/")
@login_required
def show():
    """Show Isidoor support for access, roles and the school file, and the user's gestionnaires for the platform."""
    return render_template("help/show.html", support=ISIDOOR_SUPPORT,
                           contacts=platform_contacts(db_session(), principal()))
