"""Notifications: each user reads the messages the platform sent them; process owners see the outbox."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select, update

from engine.access import require_process_owner
from engine.models import Notification
from engine.views.notification_list import OUTBOX_STATES, notification_page
from webapp.auth import principal
from webapp.database import db_session
from webapp.paging import PAGE_SIZE

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def unread_count() -> dict:
    """The number of unread notifications shown in the header of every page."""
    if not current_user.is_authenticated:
        return {"unread_notifications": 0}
    count = db_session().scalar(select(func.count()).select_from(Notification).where(
        Notification.person_id == current_user.person.id, Notification.read_at.is_(None)))
    return {"unread_notifications": count}


@bp.route("/")
@login_required
def index():
    """The current user's messages, newest first, one page at a time (`?apres=` is the cursor of the page)."""
    page = notification_page(db_session(), PAGE_SIZE, request.args.get("apres") or None,
                             person_id=current_user.person.id)
    return render_template("notifications/index.html", page=page)


@bp.route("/lues", methods=("POST",))
@login_required
def mark_read():
    """Mark all the current user's messages as read."""
    session = db_session()
    session.execute(update(Notification).where(Notification.person_id == current_user.person.id,
                                               Notification.read_at.is_(None)).values(read_at=datetime.now()))
    session.commit()
    flash("Toutes vos notifications sont marquées comme lues.", "success")
    return redirect(url_for("notifications.index"))


@bp.route("/courriels")
@login_required
def outbox():
    """Every message of the platform with its delivery state (process owners)."""
    require_process_owner(principal())
    status = request.args.get("statut", "")
    status = status if status in OUTBOX_STATES else ""
    page = notification_page(db_session(), PAGE_SIZE, request.args.get("apres") or None, state=status or None)
    return render_template("notifications/outbox.html", page=page, status=status)
