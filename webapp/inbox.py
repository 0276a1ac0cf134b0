"""Home page: the campaign, what the user has to do next, their schools' files."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.campaign.campaigns import current_campaign
from engine.campaign.school_files import school_cards
from engine.directory.lookups import profile_problems
from engine.models import Structure
from engine.views.next_steps import missing_trainings, owner_attention, review_queue, task_groups, trainings_to_attend
from engine.views.queries import actionable_tasks
from webapp.auth import principal
from webapp.database import db_session

bp = Blueprint("inbox", __name__)


@bp.route("/")
@login_required
def home():
    """Say what the user has to do next: tasks by kind, school files, trainings, reviews, incidents."""
    session = db_session()
    me = principal()
    campaign = current_campaign(session)
    now = datetime.now()
    rows = actionable_tasks(session, me)
    structures = list(session.scalars(select(Structure).where(Structure.code.in_(me.structures))))
    return render_template("inbox/home.html", rows=rows, groups=task_groups(rows, now), campaign=campaign,
                           schools=school_cards(session, me, campaign, now.date()), structures=structures,
                           trainings=trainings_to_attend(session, me, now.date()),
                           missing_trainings=missing_trainings(session, me), reviews=review_queue(session, me, now),
                           attention=owner_attention(session, me, now),
                           profile_problems=profile_problems(current_user.person), today=now.date(), now=now)
