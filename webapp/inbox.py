"""Home page: the campaign, what the user has to do next, their schools' files."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.campaigns import current_campaign
from engine.directory import profile_problems
from engine.models import Structure
from engine.queries import actionable_tasks
from engine.school_files import school_cards
from webapp.auth import principal
from webapp.database import db_session

bp = Blueprint("inbox", __name__)


@bp.route("/")
@login_required
def home():
    """List the user's tasks, their schools' files and what they can start."""
    session = db_session()
    me = principal()
    campaign = current_campaign(session)
    structures = list(session.scalars(select(Structure).where(Structure.code.in_(me.structures))))
    return render_template("inbox/home.html", rows=actionable_tasks(session, me), campaign=campaign,
                           schools=school_cards(session, me, campaign, date.today()), structures=structures,
                           profile_problems=profile_problems(current_user.person), today=date.today())
