"""Each path of each BPMN process, through the engine alone (no web)."""
from __future__ import annotations

import copy
from datetime import datetime

import pytest
from sqlalchemy import select

from engine.access import Forbidden
from engine.models import AuditEvent, Document, Establishment, Notification, ProcessInstance, Structure, TaskRow
from engine.runtime import deployment
from engine.runtime.runtime import Conflict, FormInvalid
from engine.runtime.workflow_cache import WORKFLOWS

from conftest import SAMPLES, principal_of
from follow_up_support import fire_due_timers, to_follow_up


def sample(name: str, **changes) -> dict:
    """A valid submission of a form, with some fields changed."""
    data = copy.deepcopy(SAMPLES[name])
    data.update(changes)
    return data


def ready(session, instance_id: int, spec_id: str | None = None) -> list[TaskRow]:
    """Ready task rows of an instance, optionally of one task id."""
    query = select(TaskRow).where(TaskRow.instance_id == instance_id, TaskRow.state == "ready")
    if spec_id:
        query = query.where(TaskRow.spec_id == spec_id)
    return list(session.scalars(query.order_by(TaskRow.place)))


def do(runtime, session, instance_id: int, login: str, spec_id: str, data: dict) -> ProcessInstance:
    """Complete the (first) ready task `spec_id` of an instance as `login`."""
    rows = ready(session, instance_id, spec_id)
    assert rows, f"{spec_id} n'est pas prêt ; prêts : {[r.spec_id for r in ready(session, instance_id)]}"
    return runtime.complete(rows[0].id, principal_of(session, login), data)


def school(session, city_key: str) -> Establishment:
    """A demo establishment by its UAI prefix."""
    uai = {"rennes": "0350781J", "brest": "0291652N", "pontivy": "0561433D", "paris": "0754025T"}[city_key]
    return session.scalar(select(Establishment).where(Establishment.uai == uai))


def start_project(runtime, session, city: str = "rennes") -> ProcessInstance:
    """Start the hosting project of a demo school as its référent."""
    return runtime.start("hosting_project", principal_of(session, f"referent.{city}"),
                         establishment=school(session, city), campaign="2027-2028")


def accepted_project(runtime, session, city="rennes", places=1) -> ProcessInstance:
    """A project submitted, accepted and published, with its volunteer paths open."""
    instance = start_project(runtime, session, city)
    reviewer = {"rennes": "gestionnaire.udogec35", "brest": "gestionnaire.udogec29",
                "paris": "gestionnaire.fnogec"}[city]
    do(runtime, session, instance.id, f"referent.{city}", "design_project",
       sample("design_project", places_requested=places))
    do(runtime, session, instance.id, reviewer, "review_project", sample("review_project", places_granted=places))
    do(runtime, session, instance.id, f"referent.{city}", "publish_offer", sample("publish_offer"))
    return instance


def run_volunteer_path(runtime, session, instance_id: int, city: str = "rennes", first_name: str = "Léa") -> None:
    """Run one volunteer path from selection to the end-of-mission report."""
    volunteer = sample("volunteer_file", first_name=first_name, tutor=f"tuteur.{city}", cotutor=f"cotuteur.{city}")
    do(runtime, session, instance_id, f"referent.{city}", "select_volunteer", sample("select_volunteer"))
    do(runtime, session, instance_id, f"tuteur.{city}", "confirm_selection", sample("confirm_selection"))
    do(runtime, session, instance_id, f"referent.{city}", "volunteer_file", volunteer)
    reviewer = {"rennes": "gestionnaire.udogec35", "brest": "gestionnaire.udogec29"}[city]
    do(runtime, session, instance_id, reviewer, "draw_up_contract", sample("draw_up_contract"))
    do(runtime, session, instance_id, f"referent.{city}", "upload_signed_contract", sample("upload_signed_contract"))
    do(runtime, session, instance_id, reviewer, "confirm_contract", sample("confirm_contract"))
    # Late May 2028: every monthly follow-up and the mid-mission review are due, then the end-of-mission report.
    fire_due_timers(runtime, session, datetime(2028, 5, 20, 10, 0))
    do(runtime, session, instance_id, f"tuteur.{city}", "record_follow_up", sample("record_follow_up"))
    do(runtime, session, instance_id, f"referent.{city}", "mid_mission_review", sample("mid_mission_review"))
    fire_due_timers(runtime, session, datetime(2028, 5, 20, 10, 0))
    do(runtime, session, instance_id, f"cotuteur.{city}", "end_of_mission_report", sample("end_of_mission_report"))


def test_start_runs_to_the_referent_design_task(runtime, session):
    instance = start_project(runtime, session)
    rows = ready(session, instance.id)
    assert [(r.spec_id, r.lane, r.establishment_id) for r in rows] == [("design_project", "referent", instance.establishment_id)]
    assert instance.status == "running" and instance.current_step == rows[0].title
    assert '"spec": "hosting_project"' in instance.state
    assert "task_specs" not in instance.state, "the spec must stay out of the stored state"


def test_accepted_project_runs_the_whole_campaign(runtime, session):
    instance = accepted_project(runtime, session)
    rows = ready(session, instance.id)
    assert [(r.spec_id, r.lane, r.place) for r in rows] == [("select_volunteer", "referent", 1)]
    run_volunteer_path(runtime, session, instance.id)
    session.refresh(instance)
    assert instance.status == "completed" and instance.outcome == "campaign_closed"
    assert ready(session, instance.id) == []
    contract = session.scalar(select(Document).where(Document.instance_id == instance.id, Document.kind == "contract"))
    assert (contract.content_type, contract.version) == ("application/pdf", 1)
    assert (runtime.documents.path_of(contract)).read_bytes().startswith(b"%PDF")
    kinds = [e.kind for e in session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id)
                                             .order_by(AuditEvent.id))]
    assert kinds.count("completed") == 12 and kinds[0] == "started"


def test_review_goes_to_the_udogec_of_the_department(runtime, session):
    instance = start_project(runtime, session, "brest")
    do(runtime, session, instance.id, "referent.brest", "design_project", sample("design_project"))
    (review,) = ready(session, instance.id)
    assert (review.spec_id, review.lane, review.structure_code) == ("review_project", "gestionnaire", "UDOGEC-29")


def test_review_goes_to_fnogec_where_no_union_is_dedicated(runtime, session):
    instance = start_project(runtime, session, "paris")
    do(runtime, session, instance.id, "referent.paris", "design_project", sample("design_project"))
    (review,) = ready(session, instance.id)
    assert review.structure_code == "FNOGEC"


def test_review_goes_to_the_urogec_where_the_department_has_no_udogec(runtime, session):
    pontivy = school(session, "pontivy")
    pontivy.siret = "77773456700012"
    session.commit()
    instance = start_project(runtime, session, "pontivy")
    do(runtime, session, instance.id, "referent.pontivy", "design_project", sample("design_project"))
    (review,) = ready(session, instance.id)
    assert review.structure_code == "UROGEC-BRETAGNE"


def test_quota_of_a_large_school_opens_two_parallel_paths(runtime, session):
    instance = accepted_project(runtime, session, "brest", places=2)
    rows = ready(session, instance.id)
    assert sorted((r.spec_id, r.place) for r in rows) == [("select_volunteer", 1), ("select_volunteer", 2)]
    run_volunteer_path(runtime, session, instance.id, "brest", "Léa")
    session.refresh(instance)
    assert instance.status == "running"
    run_volunteer_path(runtime, session, instance.id, "brest", "Hugo")
    session.refresh(instance)
    assert instance.status == "completed"


def test_small_school_cannot_be_granted_two_places(runtime, session):
    instance = start_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "gestionnaire.udogec35", "review_project",
           sample("review_project", places_granted=2))
    assert "quota" in invalid.value.errors["places_granted"][0]


def test_refused_project_ends_refused_and_tells_the_referents(runtime, session):
    instance = start_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    do(runtime, session, instance.id, "gestionnaire.udogec35", "review_project",
       {"decision": "refuse", "comment": "Le projet relève du remplacement d'un surveillant."})
    session.refresh(instance)
    assert (instance.status, instance.outcome) == ("refused", "project_refused")
    assert ready(session, instance.id) == []
    notice = session.scalar(select(Notification).where(Notification.instance_id == instance.id))
    assert notice.recipient == "referent.rennes@example.org" and "remplacement" in notice.body


def test_changes_go_back_to_the_referent_with_the_comment(runtime, session):
    instance = start_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    do(runtime, session, instance.id, "gestionnaire.udogec35", "review_project",
       {"decision": "changes", "comment": "Précisez les horaires du volontaire."})
    (again,) = ready(session, instance.id)
    assert again.spec_id == "design_project" and again.lane == "referent"
    from engine.views.task_view import build_task_view

    waiting = runtime.ready_task(again.id, principal_of(session, "referent.rennes"))
    view = build_task_view(session, waiting.row, waiting.task, waiting.bundle)
    assert "Précisez les horaires du volontaire." in view.instructions
    assert view.values["title"] == SAMPLES["design_project"]["title"], "the first submission is prefilled"
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project", weekly_hours=30))
    assert [r.spec_id for r in ready(session, instance.id)] == ["review_project"]


def test_incomplete_school_cannot_submit(runtime, session):
    instance = start_project(runtime, session, "pontivy")
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "referent.pontivy", "design_project", sample("design_project"))
    message = invalid.value.errors["__form__"][0]
    assert "SIRET" in message and "support@isidoor.org" in message
    assert [r.spec_id for r in ready(session, instance.id)] == ["design_project"], "nothing is half done"


def test_school_file_emptied_after_submission_sends_the_project_back(runtime, session, monkeypatch):
    import handlers

    instance = start_project(runtime, session)
    monkeypatch.setitem(handlers.FORM_RULES, "design_project", [])
    rennes = school(session, "rennes")
    rennes.pupil_count = None
    session.commit()
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    (again,) = ready(session, instance.id)
    assert again.spec_id == "design_project"


def test_tuteur_disagreement_returns_to_selection(runtime, session):
    instance = accepted_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "select_volunteer", sample("select_volunteer"))
    do(runtime, session, instance.id, "tuteur.rennes", "confirm_selection",
       {"agree": False, "comment": "Je préfère rencontrer les autres candidats."})
    assert [r.spec_id for r in ready(session, instance.id)] == ["select_volunteer"]


def test_ineligible_volunteer_is_refused_with_precise_messages(runtime, session):
    instance = accepted_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "select_volunteer", sample("select_volunteer"))
    do(runtime, session, instance.id, "tuteur.rennes", "confirm_selection", sample("confirm_selection"))
    with pytest.raises(FormInvalid) as invalid:
        do(runtime, session, instance.id, "referent.rennes", "volunteer_file",
           sample("volunteer_file", birth_date="1995-01-01", end_date="2027-12-31"))
    assert "la veille de ses 26 ans, le 31 décembre 2020" in invalid.value.errors["birth_date"][0]
    assert "au moins 6 mois" in invalid.value.errors["end_date"][0]
    assert [r.spec_id for r in ready(session, instance.id)] == ["volunteer_file"], "nothing is half done"


def test_training_session_invites_and_records_attendance(runtime, session):
    to_follow_up(runtime, session)
    udogec = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
    training = runtime.start("training", principal_of(session, "gestionnaire.udogec35"), structure=udogec)
    do(runtime, session, training.id, "gestionnaire.udogec35", "plan_training", sample("plan_training"))
    invitations = session.scalars(select(Notification).where(Notification.instance_id == training.id)).all()
    assert [n.recipient for n in invitations] == ["lea.martin@example.fr"]
    do(runtime, session, training.id, "gestionnaire.udogec35", "record_attendance", sample("record_attendance"))
    session.refresh(training)
    assert (training.status, training.outcome) == ("completed", "training_closed")


def test_other_school_or_territory_cannot_complete(runtime, session):
    instance = start_project(runtime, session)
    (design,) = ready(session, instance.id)
    for outsider in ("referent.brest", "tuteur.rennes", "gestionnaire.udogec35"):
        with pytest.raises(Forbidden):
            runtime.complete(design.id, principal_of(session, outsider), sample("design_project"))
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    (review,) = ready(session, instance.id)
    for outsider in ("gestionnaire.udogec29", "gestionnaire.urogec", "gestionnaire.fnogec", "referent.rennes", "pilote"):
        with pytest.raises(Forbidden):
            runtime.complete(review.id, principal_of(session, outsider), sample("review_project"))


def test_a_completed_task_cannot_be_completed_again(runtime, session):
    instance = start_project(runtime, session)
    (design,) = ready(session, instance.id)
    runtime.complete(design.id, principal_of(session, "referent.rennes"), sample("design_project"))
    with pytest.raises(Conflict):
        runtime.complete(design.id, principal_of(session, "referent.rennes"), sample("design_project"))


def test_handler_failure_leaves_an_incident_and_keeps_the_input(runtime, session, monkeypatch):
    import handlers

    def broken(context, **params):
        raise RuntimeError("serveur de courriel injoignable")

    instance = start_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "design_project", sample("design_project"))
    monkeypatch.setitem(handlers.HANDLERS, "notify_referents", broken)
    do(runtime, session, instance.id, "gestionnaire.udogec35", "review_project",
       {"decision": "refuse", "comment": "Hors du champ du Service Civique."})
    session.refresh(instance)
    assert instance.status == "incident" and "serveur de courriel injoignable" in instance.incident
    review_event = session.scalar(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                           AuditEvent.spec_id == "review_project"))
    assert review_event.data["comment"] == "Hors du champ du Service Civique."
    monkeypatch.undo()
    runtime.retry(instance, principal_of(session, "pilote"))
    assert (instance.status, instance.outcome) == ("refused", "project_refused")


def test_a_volunteer_path_ends_the_project_in_a_process_that_did_not_open_it(runtime, session, monkeypatch):
    # Another worker, or this one restarted: the specs are parsed anew and no workflow is kept in memory. The
    # multi-instance must still learn that its last path ended (SpiffWorkflow links them when it creates them).
    instance = accepted_project(runtime, session)
    monkeypatch.setattr(deployment._BUNDLES, "_kept", {})
    WORKFLOWS.clear()
    run_volunteer_path(runtime, session, instance.id)
    session.refresh(instance)
    assert (instance.status, instance.outcome) == ("completed", "campaign_closed")
