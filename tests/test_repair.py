"""Dossiers whose volunteer path ended unheard by its multi-instance task: reported, then repaired."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import select, update

from engine.models import AuditEvent, ProcessInstance
from engine.ops.consistency import check_consistency
from engine.ops.repair import rejoin_ended_paths
from engine.runtime import deployment, spiff_internals
from engine.runtime.runtime import Conflict
from engine.runtime.workflow_cache import WORKFLOWS

from test_processes import accepted_project, run_volunteer_path

STUCK = "1 parcours terminé jamais rattaché à « Parcours des volontaires (un par place) » : le dossier attend sans raison"


def a_new_process(monkeypatch) -> None:
    """What another worker (or this one restarted) starts with: specs parsed anew, no workflow in memory."""
    monkeypatch.setattr(deployment._BUNDLES, "_kept", {})
    WORKFLOWS.clear()


@pytest.fixture
def stuck(runtime, session, monkeypatch):
    """A hosting project whose only volunteer path ended in a process that parsed the specs without the link
    from instances to their multi-instance task (as before it was made at parse time): it waits for ever."""
    instance = accepted_project(runtime, session)
    with monkeypatch.context() as unlinked:
        unlinked.setattr(spiff_internals, "link_loop_children", lambda spec: None)
        a_new_process(unlinked)
        run_volunteer_path(runtime, session, instance.id)
    a_new_process(monkeypatch)
    session.refresh(instance)
    assert (instance.status, instance.current_step) == ("running", None)
    return instance


def test_the_consistency_check_reports_a_dossier_waiting_on_an_ended_path(session, stuck):
    problems = [(p.instance_id, p.task_id, str(p)) for p in check_consistency(session).problems]
    assert problems == [(stuck.id, None, f"dossier {stuck.id} : {STUCK} (flask --app webapp db repair)")]


def test_rejoining_ends_the_project_with_an_audit_event(runtime, session, stuck):
    assert runtime.rejoin_ended_paths(stuck, None) == 1
    session.refresh(stuck)
    assert (stuck.status, stuck.outcome) == ("completed", "campaign_closed")
    events = session.scalars(select(AuditEvent.summary).where(AuditEvent.instance_id == stuck.id,
                                                              AuditEvent.kind == "rejoined")).all()
    assert events == ["1 parcours terminé rattaché à « Parcours des volontaires (un par place) »"]
    assert check_consistency(session).ok


def test_a_dossier_with_nothing_to_rejoin_is_left_untouched(runtime, session):
    instance = accepted_project(runtime, session)
    version = instance.version
    assert runtime.rejoin_ended_paths(instance, None) == 0
    session.refresh(instance)
    assert instance.version == version
    assert not session.scalars(select(AuditEvent).where(AuditEvent.kind == "rejoined")).all()


def test_a_suspended_dossier_is_not_run_on(runtime, session, stuck):
    session.execute(update(ProcessInstance).where(ProcessInstance.id == stuck.id).values(status="suspended"))
    session.commit()
    session.refresh(stuck)
    with pytest.raises(Conflict, match="suspendu"):
        runtime.rejoin_ended_paths(stuck, None)
    session.refresh(stuck)
    assert stuck.status == "suspended"


def test_rejoin_ended_paths_repairs_only_the_dossiers_waiting_on_them(sessions, runtime, session, stuck, tmp_path):
    healthy = accepted_project(runtime, session)
    told = []
    report = rejoin_ended_paths(sessions, runtime.settings, lambda instance_id, outcome: told.append((instance_id,
                                                                                                     outcome)))
    assert (report.examined, report.rejoined, report.refused, told) == (2, {stuck.id: 1}, {}, [(stuck.id, 1)])
    session.refresh(stuck)
    session.refresh(healthy)
    assert (stuck.status, healthy.status) == ("completed", "running")


def test_db_repair_command_repairs_then_finds_nothing(app, session, stuck):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "repair"])
    assert result.exit_code == 0, result.output
    assert f"dossier {stuck.id} : 1 parcours terminé rattaché" in result.output
    assert "1 dossier réparé sur 1 dossier en cours examiné." in result.output
    assert "Dossiers lus : 1 / 1 (100 %)" in result.output
    result = runner.invoke(args=["db", "repair"])
    assert result.exit_code == 0 and "0 dossier réparé sur 0 dossier en cours examiné." in result.output
    assert runner.invoke(args=["db", "check"]).exit_code == 0


def test_db_repair_command_fails_on_a_dossier_it_must_leave(app, session, stuck):
    session.execute(update(ProcessInstance).where(ProcessInstance.id == stuck.id).values(status="suspended"))
    session.commit()
    result = app.test_cli_runner().invoke(args=["db", "repair"])
    assert result.exit_code == 1
    assert f"dossier {stuck.id} : laissé tel quel (Ce dossier est suspendu" in result.output
    assert "1 dossier laissé tel quel : voir ci-dessus." in result.output


def test_the_dossier_page_shows_a_process_owner_what_it_waits_on_and_repairs_it(browser, session, stuck):
    browser.login("pilote")
    page = browser.client.get(f"/dossiers/{stuck.id}").get_data(as_text=True)
    assert f"Dossier bloqué :</strong> {html.escape(STUCK, quote=False)}." in page
    assert "Rattacher les parcours terminés" in page
    answer = browser.post_form(f"/dossiers/{stuck.id}/parcours-termines", {}, page=f"/dossiers/{stuck.id}")
    assert answer.status_code == 302
    page = browser.client.get(f"/dossiers/{stuck.id}").get_data(as_text=True)
    assert "1 parcours terminé rattaché : le dossier est terminé." in page
    assert "Dossier bloqué" not in page
    assert "1 parcours terminé rattaché à « Parcours des volontaires (un par place) »</strong> — réparation" in page
    session.refresh(stuck)
    assert stuck.status == "completed"


def test_a_gestionnaire_sees_the_dossier_blocked_but_may_not_repair_it(browser, session, stuck):
    browser.login("gestionnaire.udogec35")
    page = browser.client.get(f"/dossiers/{stuck.id}").get_data(as_text=True)
    assert "Dossier bloqué" in page and "Un responsable de processus peut le débloquer" in page
    assert "Rattacher les parcours terminés" not in page
    answer = browser.post_form(f"/dossiers/{stuck.id}/parcours-termines", {}, page=f"/dossiers/{stuck.id}")
    assert answer.status_code == 403
    session.refresh(stuck)
    assert stuck.status == "running"


def test_repairing_a_dossier_that_waits_on_nothing_says_so(browser, runtime, session):
    instance = accepted_project(runtime, session)
    browser.login("pilote")
    answer = browser.post_form(f"/dossiers/{instance.id}/parcours-termines", {}, page=f"/dossiers/{instance.id}")
    assert answer.status_code == 302
    page = browser.client.get(f"/dossiers/{instance.id}").get_data(as_text=True)
    assert "Ce dossier n&#39;attend aucun parcours terminé : il n&#39;y a rien à rattacher." in page


def test_the_api_rejoins_the_ended_paths_then_refuses_with_nothing_left(api, session, stuck):
    answer = api.post(f"/api/v1/instances/{stuck.id}/rejoin", "pilote")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["instance"]["status"] == "completed"
    again = api.post(f"/api/v1/instances/{stuck.id}/rejoin", "pilote")
    assert again.status_code == 409
    assert again.json["message"] == "Ce dossier n'attend aucun parcours terminé : il n'y a rien à rattacher."
    assert api.post(f"/api/v1/instances/{stuck.id}/rejoin", "gestionnaire.udogec35").status_code == 403
