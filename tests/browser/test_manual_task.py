"""In Chromium: a manual task shows its instructions and a « C'est fait » button, is accessible, and completes."""
from __future__ import annotations

from datetime import datetime

from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.models import Structure, TaskRow
from engine.runtime.deployment import deploy
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings

from .conftest import assert_accessible, login
from conftest import principal_of
from test_manual_tasks import INSTRUCTIONS, files_with_manual_attendance
from test_processes import do, sample


def test_a_manual_task_is_done_with_its_button(site, page: Page):
    with site.sessions() as session:
        deploy(session, files_with_manual_attendance(), actor="tests")
        session.commit()
        runtime = ProcessRuntime(session, RuntimeSettings(site.storage_dir), clock=lambda: datetime(2027, 3, 15, 10))
        organiser = session.scalar(select(Structure).where(Structure.code == "UDOGEC-35"))
        instance = runtime.start("training", principal_of(session, "gestionnaire.udogec35"), structure=organiser)
        do(runtime, session, instance.id, "gestionnaire.udogec35", "plan_training", sample("plan_training"))
        task_id = session.scalar(select(TaskRow.id).where(TaskRow.instance_id == instance.id,
                                                          TaskRow.state == "ready"))
    login(page, "gestionnaire.udogec35")
    page.goto(f"/taches/{task_id}")
    expect(page.get_by_role("heading", name="Relever les présences")).to_be_visible()
    expect(page.get_by_text(INSTRUCTIONS)).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer le brouillon")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("button", name="C'est fait").click()
    expect(page.get_by_text("« Relever les présences » est enregistré.")).to_be_visible()
    assert page.errors == []
    with site.sessions() as session:
        assert session.get(TaskRow, task_id).state == "completed"
