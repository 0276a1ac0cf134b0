"""Home page: what the user has to do next, by role."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template
from flask_login import login_required
from sqlalchemy import select

from engine.access import inbox_filter
from engine.campaign import current_campaign
from engine.models import Establishment, ProcessInstance, Structure, TaskRow
from handlers.school_file import school_file_problems
from engine.directory import establishment_file
from webapp.auth import principal
from webapp.database import db_session

bp = Blueprint("inbox", __name__)


def campaign() -> str:
    """The campaign new projects belong to."""
    return current_app.config.get("CAMPAIGN") or current_campaign(date.today())


@bp.route("/")
@login_required
def home():
    """List the user's tasks, their schools' files and what they can start."""
    session = db_session()
    me = principal()
    rows = session.execute(
        select(TaskRow, ProcessInstance, Establishment)
        .join(ProcessInstance, ProcessInstance.id == TaskRow.instance_id)
        .outerjoin(Establishment, Establishment.id == TaskRow.establishment_id)
        .where(TaskRow.state == "ready", inbox_filter(me))
        .order_by(TaskRow.created_at)
    ).all()
    schools = []
    referent_of = me.establishments.get("referent", set())
    for establishment in session.scalars(select(Establishment).where(Establishment.id.in_(me.all_establishments))
                                         .order_by(Establishment.name)):
        project = session.scalar(
            select(ProcessInstance).where(
                ProcessInstance.establishment_id == establishment.id,
                ProcessInstance.process_id == "hosting_project",
                ProcessInstance.campaign == campaign(),
                ProcessInstance.status.in_(("running", "completed", "incident")),
            ).order_by(ProcessInstance.id.desc()).limit(1)
        )
        schools.append({
            "establishment": establishment,
            "problems": school_file_problems(establishment_file(establishment)),
            "project": project,
            "may_start": establishment.id in referent_of and project is None,
        })
    structures = list(session.scalars(select(Structure).where(Structure.code.in_(me.structures))))
    return render_template("inbox/home.html", rows=rows, schools=schools, structures=structures,
                           campaign=campaign())
