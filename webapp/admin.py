"""Administration (process owners): campaigns, imports of the Isidoor directory, and accounts with their sessions."""
from __future__ import annotations

from datetime import date, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_template,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from engine.access import require_process_owner
from engine.campaign.campaigns import (
    CampaignInvalid,
    CampaignRefused,
    all_campaigns,
    close_campaign,
    open_campaign,
    set_agreement_number,
)
from engine.directory.accounts import find_people
from engine.directory.import_report import KIND_LABELS, OUTCOME_LABELS, outcome_label
from engine.directory.importing import record_file_error
from engine.directory.records import ImportFileError, read_document
from engine.directory.tokens import end_all_sessions, open_token_count
from engine.directory.web_sessions import person_sessions
from engine.models import Campaign, DirectoryImport, Person
from handlers.formats import plural
from webapp.auth import principal
from webapp.config import settings_of
from webapp.database import db_session
from webapp.import_runner import BackgroundImport
from webapp.refusals import answer_refusals, redirect_refusals

bp = Blueprint("admin", __name__, url_prefix="/administration")
# The national file (7,500 establishments, 40,000 people) weighs about 20 MB; other uploads keep the app's limit.
IMPORT_MAX_BYTES = 64 * 1024 * 1024


@bp.record_once
def _exempt_upload_from_early_csrf(state) -> None:
    # The app-wide CSRF check reads the form before this view can raise the size limit for the
    # directory file; the view checks the token itself once the limit is raised.
    state.app.extensions["csrf"].exempt("webapp.admin.directory")


@bp.route("/campagnes", methods=("GET", "POST"))
@login_required
def campaigns():
    """List the campaigns and open a new one."""
    require_process_owner(principal())
    if request.method == "POST":
        answer_refusals(lambda invalid: _campaigns_page(invalid.errors), CampaignInvalid)
        campaign = open_campaign(db_session(), principal(), request.form.to_dict(), datetime.now())
        flash(f"La campagne {campaign.school_year} est ouverte.", "success")
        return redirect(url_for("admin.campaigns"))
    return _campaigns_page({})


def _campaigns_page(errors: dict[str, str]):
    return render_template("admin/campaigns.html", campaigns=all_campaigns(db_session()), errors=errors,
                           values=request.form if errors else {}, today=date.today()), (422 if errors else 200)


@bp.route("/campagnes/<int:campaign_id>/fermeture", methods=("POST",))
@login_required
def close(campaign_id: int):
    """Close a campaign."""
    require_process_owner(principal())
    campaign = db_session().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    redirect_refusals(url_for("admin.campaigns"), CampaignRefused)
    close_campaign(db_session(), principal(), campaign, datetime.now())
    flash(f"La campagne {campaign.school_year} est fermée : aucun nouveau projet ne peut y être déposé.", "success")
    return redirect(url_for("admin.campaigns"))


@bp.route("/campagnes/<int:campaign_id>/agrement", methods=("POST",))
@login_required
def agreement_number(campaign_id: int):
    """Set the agrément number printed on a campaign's contracts."""
    require_process_owner(principal())
    campaign = db_session().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    def refused(invalid: CampaignInvalid):
        flash(f"Campagne {campaign.school_year} : {invalid.errors['agreement_number']}", "error")
        return redirect(url_for("admin.campaigns"))

    answer_refusals(refused, CampaignInvalid)
    set_agreement_number(db_session(), principal(), campaign, request.form.get("agreement_number", ""))
    flash(f"Le numéro d'agrément {campaign.agreement_number} figure désormais sur les contrats de la campagne "
          f"{campaign.school_year}.", "success")
    return redirect(url_for("admin.campaigns"))


@bp.route("/annuaire", methods=("GET", "POST"))
@login_required
def directory():
    """Upload an Isidoor directory file and import it, showing its progress; list the previous imports."""
    require_process_owner(principal())
    session = db_session()
    if request.method == "POST":
        request.max_content_length = IMPORT_MAX_BYTES
        if current_app.config.get("WTF_CSRF_ENABLED", True):
            current_app.extensions["csrf"].protect()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            flash("Choisissez le fichier JSON de l'annuaire à importer.", "error")
            return redirect(url_for("admin.directory"))
        try:
            document = read_document(upload.read())
        except ImportFileError as error:
            record = record_file_error(session, upload.filename, principal().person_id, str(error))
            return redirect(url_for("admin.directory_import", import_id=record.id))
        running = BackgroundImport(current_app.extensions["db_sessions"], document, upload.filename,
                                   principal().person_id).start()
        # The page is sent as the import advances; a proxy must pass it on without buffering it.
        return Response(stream_template("admin/directory_progress.html", progress=running, source=upload.filename,
                                        kinds=KIND_LABELS, outcomes=OUTCOME_LABELS),
                        mimetype="text/html", headers={"X-Accel-Buffering": "no"})
    imports = session.execute(select(DirectoryImport, Person).outerjoin(Person, Person.id == DirectoryImport.actor_id)
                              .order_by(DirectoryImport.id.desc()).limit(20)).all()
    return render_template("admin/directory.html", imports=imports, max_mb=IMPORT_MAX_BYTES // (1024 * 1024),
                           kinds=KIND_LABELS, outcomes=OUTCOME_LABELS)


@bp.route("/annuaire/<int:import_id>")
@login_required
def directory_import(import_id: int):
    """The report of one import: counts, rejected records and why, changes."""
    require_process_owner(principal())
    record = db_session().get(DirectoryImport, import_id)
    if record is None:
        abort(404)
    return render_template("admin/directory_import.html", record=record, kinds=KIND_LABELS, outcomes=OUTCOME_LABELS,
                           outcome_label=outcome_label,
                           rejected=[e for e in record.entries if e["outcome"] == "rejected"],
                           changes=[e for e in record.entries if e["outcome"] != "rejected"])


@bp.route("/comptes")
@login_required
def accounts():
    """Find accounts by login, email or name."""
    require_process_owner(principal())
    text = request.args.get("q", "").strip()[:200]
    return render_template("admin/accounts.html", text=text, people=find_people(db_session(), text) if text else [])


@bp.route("/comptes/<int:person_id>")
@login_required
def account(person_id: int):
    """An account: who, whether active, its open web sessions and API tokens, its latest ended sessions."""
    require_process_owner(principal())
    session = db_session()
    person = session.get(Person, person_id)
    if person is None:
        abort(404)
    now = settings_of().clock()
    open_sessions, ended = person_sessions(session, person, now, settings_of().session_limits())
    return render_template("admin/account.html", person=person, open_sessions=open_sessions, ended=ended,
                           tokens=open_token_count(session, person.id, now))


@bp.route("/comptes/<int:person_id>/fin-des-sessions", methods=("POST",))
@login_required
def end_sessions(person_id: int):
    """End every web session of an account and revoke its API tokens (« Mettre fin à toutes les sessions »)."""
    require_process_owner(principal())
    person = db_session().get(Person, person_id)
    if person is None:
        abort(404)
    ended = end_all_sessions(db_session(), person.id, settings_of().clock())
    tokens = plural(ended.tokens, "jeton d'API révoqué", "jetons d'API révoqués")
    flash(f"{person.full_name} : {plural(ended.web_sessions, 'session fermée', 'sessions fermées')}, {tokens}.",
          "success")
    if person.id == current_user.person.id:
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.account", person_id=person.id))
