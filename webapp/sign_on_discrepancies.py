"""The gestionnaire's page of differences between Isidoor's claims at login and the directory."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from engine.directory.sign_on_discrepancies import KIND_LABELS, visible_discrepancies
from webapp.auth import principal
from webapp.database import db_session

bp = Blueprint("discrepancies", __name__)


@bp.route("/ecarts-isidoor")
@login_required
def index():
    """List the differences of the gestionnaire's territory: open ones first."""
    rows = visible_discrepancies(db_session(), principal())
    return render_template("sign_on/discrepancies.html", open_rows=[r for r in rows if r.resolved_at is None],
                           resolved_rows=[r for r in rows if r.resolved_at is not None], kinds=KIND_LABELS)
