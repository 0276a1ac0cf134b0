"""Home page: the campaigns in progress and in preparation, what the user has to do next, their schools' files."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from engine.campaign.campaigns import campaigns_in_view, current_campaign
from engine.campaign.school_files import school_cards
from engine.campaign.starts import start_choices
from engine.directory.lookups import profile_problems
from engine.runtime.catalogue import current_catalogue
from engine.views.dossier_status import dossier_statuses
from engine.views.inbox import InboxFilter, inbox_page, task_groups
from engine.views.next_steps import (
    missing_trainings,
    owner_attention,
    review_queue,
    trainings_to_attend,
    waiting_lines,
)
from engine.views.queries import campaigns_of, instances_of, live_projects
from webapp.auth import principal
from webapp.database import db_session
from webapp.paging import PAGE_SIZE

bp = Blueprint("inbox", __name__)


@bp.route("/")
@login_required
def home():
    """Say what the user has to do next: tasks by kind, school files, trainings, reviews, incidents, and the dates
    their dossiers wait for; then one page of their tasks (`?etape=` and `?campagne=` filter it by kind and
    campaign, `?apres=` is the cursor of the page to show)."""
    session = db_session()
    me = principal()
    campaign = current_campaign(session)
    now = datetime.now()
    in_view = campaigns_in_view(session, now.date())
    only = InboxFilter(step=request.args.get("etape") or None, campaign=request.args.get("campagne") or None)
    page = inbox_page(session, me, PAGE_SIZE, request.args.get("apres") or None, only)
    catalogue = current_catalogue(session)
    # The campaign process starts from each school's card; the other processes the person may start, below, and
    # the campaign process too for those who reach schools by territory (no card lists them all).
    starts = [choice for choice in start_choices(session, me, catalogue)
              if choice.entry.process_id != catalogue.campaign_process_id or choice.any_establishment]
    schools = school_cards(session, me, campaign, now.date(), catalogue)
    trainings, missing = trainings_to_attend(session, me, now.date()), missing_trainings(session, me)
    # The schools' projects of the other campaign in view: the cards show the open campaign's.
    other_years = [view.school_year for view in in_view if campaign is None or view.school_year != campaign.school_year]
    other_projects = live_projects(session, [card["establishment"].id for card in schools], other_years)
    # Every dossier of the person says where it stands: their schools' projects, the trainings they take part in.
    followed = ([card["project"] for card in schools if card["project"] is not None] + list(other_projects.values())
                + instances_of(session, [item.training.instance_id for item in trainings
                                         if item.registered_self or item.volunteers_registered]))
    return render_template("inbox/home.html", page=page, only=only, groups=task_groups(session, me, now),
                           campaign=campaign,
                           campaigns_in_view=in_view, phases={view.school_year: view.phase_label for view in in_view},
                           other_projects=other_projects, followed=followed,
                           dossier_status=dossier_statuses(session, followed, now),
                           campaign_of=campaigns_of(session, [item.training.instance_id for item in trainings]
                                                    + [item.mission.instance_id for item in missing]),
                           schools=schools, starts=starts, campaign_entry=catalogue.campaign_process,
                           trainings=trainings, missing_trainings=missing,
                           reviews=review_queue(session, me, now),
                           attention=owner_attention(session, me, now), waiting=waiting_lines(session, me),
                           profile_problems=profile_problems(current_user.person), today=now.date(), now=now)
