"""The inbox is read in pages cut by keyset: every task once, in a stable order, even while tasks are completed
between pages; cursors cannot be forged; the counts by kind stay within the person's scope; pages cost the
same few statements whatever their rank."""
from __future__ import annotations

import base64
import gc
import html
import json
import runpy
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select, update

from engine.models import Deployment, Establishment, ProcessInstance, TaskRow
from engine.runtime.collector import YOUNG_COLLECTION_THRESHOLD
from engine.views.inbox import Cursor, InboxFilter, InvalidCursor, inbox_page, task_groups
from engine.views.queries import actionable_tasks

from conftest import principal_of
from live_server import served_in_thread
from test_query_counts import Statements

REVIEWER = "gestionnaire.udogec35"
OTHER = "gestionnaire.udogec29"
NOW = datetime(2027, 3, 15, 10, 0)
REVIEW_TITLE = "Instruire le projet d'accueil"


def add_tasks(session, structure: str, department: str, specs: list[tuple[str, str, int | None, int]],
              campaign: str = "2027-2028") -> list[str]:
    """Ready gestionnaire tasks of a structure, one instance each: (spec id, title, due in days or None, created
    days ago); return their ids. Several share their dates, so that the id decides between them."""
    deployment = session.scalar(select(Deployment).order_by(Deployment.id.desc()).limit(1))
    school = session.scalar(select(Establishment).where(Establishment.department == department).limit(1))
    ids = []
    for number, (spec_id, title, due_in, created_ago) in enumerate(specs):
        instance = ProcessInstance(deployment_id=deployment.id, process_id="hosting_project",
                                   title=f"Projet d'accueil {structure} n° {number}", establishment_id=school.id,
                                   department=department, structure_code=None, campaign=campaign,
                                   created_at=NOW, updated_at=NOW, version=1)
        session.add(instance)
        session.flush()
        task_id = str(uuid.uuid4())
        session.add(TaskRow(id=task_id, instance_id=instance.id, process_id="hosting_project", spec_id=spec_id,
                            title=title, lane="gestionnaire", establishment_id=school.id, department=department,
                            structure_code=structure, state="ready", created_at=NOW - timedelta(days=created_ago),
                            due_at=None if due_in is None else NOW + timedelta(days=due_in)))
        ids.append(task_id)
    session.commit()
    return ids


def mixed_tasks(count: int) -> list[tuple[str, str, int | None, int]]:
    """Reviews and publications with due dates, equal due dates, equal creation dates and none at all."""
    kinds = [("review_project", REVIEW_TITLE), ("publish_offer", "Publier l'offre de mission")]
    return [(*kinds[n % 3 == 0], (None if n % 4 == 0 else (n % 5) - 2), n % 3) for n in range(count)]


def expected_order(session, login: str) -> list[str]:
    """Every task the person may complete, in the inbox's order computed here: due date (none last), creation, id."""
    rows = actionable_tasks(session, principal_of(session, login))
    return [task.id for task, _instance, _school in sorted(rows, key=lambda row: (
        row[0].due_at is None, row[0].due_at or NOW, row[0].created_at, row[0].id))]


def all_pages(session, login: str, limit: int, only: InboxFilter | None = None) -> list[list[str]]:
    """The ids of each page, following the cursors to the end."""
    pages, cursor = [], None
    while True:
        page = inbox_page(session, principal_of(session, login), limit, cursor, only)
        pages.append([task.id for task, _instance, _school in page.rows])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_pages_give_every_task_once_in_the_inbox_order(session):
    add_tasks(session, "UDOGEC-35", "35", mixed_tasks(23))
    pages = all_pages(session, REVIEWER, 5)
    seen = [task_id for page in pages for task_id in page]
    assert seen == expected_order(session, REVIEWER)
    assert len(seen) == len(set(seen)) >= 23
    assert all(len(page) == 5 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 5


def test_tasks_completed_between_pages_neither_skip_nor_repeat_another(session):
    add_tasks(session, "UDOGEC-35", "35", mixed_tasks(20))
    order = expected_order(session, REVIEWER)
    reviewer = principal_of(session, REVIEWER)
    first = inbox_page(session, reviewer, 6)
    shown = [task.id for task, _instance, _school in first.rows]
    # Between the pages, someone completes two tasks already shown and two not yet shown.
    done = {shown[0], shown[3], order[8], order[12]}
    session.execute(update(TaskRow).where(TaskRow.id.in_(done)).values(state="completed", completed_at=NOW))
    session.commit()
    rest, cursor = [], first.next_cursor
    while cursor is not None:
        page = inbox_page(session, reviewer, 6, cursor)
        rest += [task.id for task, _instance, _school in page.rows]
        cursor = page.next_cursor
    assert shown + rest == [task_id for task_id in order if task_id in shown or task_id not in done]


def test_filters_by_kind_and_campaign_page_alike(session):
    add_tasks(session, "UDOGEC-35", "35", mixed_tasks(12))
    add_tasks(session, "UDOGEC-35", "35", [("review_project", REVIEW_TITLE, 3, 1)] * 3, campaign="2026-2027")
    reviews = [task_id for page in all_pages(session, REVIEWER, 2, InboxFilter(step="review_project"))
               for task_id in page]
    rows = {task.id: (task, instance) for task, instance, _school in
            actionable_tasks(session, principal_of(session, REVIEWER))}
    assert reviews == [task_id for task_id in expected_order(session, REVIEWER)
                       if rows[task_id][0].spec_id == "review_project"]
    older = all_pages(session, REVIEWER, 50, InboxFilter(step="review_project", campaign="2026-2027"))
    assert len(older) == 1 and {rows[task_id][1].campaign for task_id in older[0]} == {"2026-2027"}
    assert len(older[0]) == 3


def forged(key) -> str:
    """A cursor written by hand, as a client tampering with one would."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "pas-un-curseur", "", "x" * 300, forged(["2027-03-15T10:00:00"]),
    forged([None, "2027-13-45T10:00:00", "a"]), forged([None, "2027-03-15T10:00:00", "'; DROP TABLE task; --"]),
    forged([None, "2027-03-15T10:00:00", 12]), forged({"due": None}), "é" * 10,
])
def test_a_cursor_not_given_by_the_platform_is_refused(session, cursor):
    with pytest.raises(InvalidCursor) as refused:
        inbox_page(session, principal_of(session, REVIEWER), 5, cursor)
    assert refused.value.status == 400
    assert refused.value.message.startswith("Le curseur de pagination est invalide")


def test_a_cursor_round_trips_with_or_without_due_date():
    for due in (None, NOW + timedelta(days=3)):
        cursor = Cursor(due, NOW - timedelta(microseconds=1234), str(uuid.uuid4()))
        assert Cursor.decode(cursor.encode()) == cursor


def test_api_pages_follow_next_links_and_refuse_a_tampered_cursor_in_french(session, api):
    add_tasks(session, "UDOGEC-35", "35", mixed_tasks(9))
    seen, path = [], "/api/v1/tasks?limit=4"
    while path is not None:
        answer = api.get(path, REVIEWER)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.json["limit"] == 4 and len(answer.json["items"]) <= 4
        seen += [item["id"] for item in answer.json["items"]]
        path = answer.json["next"]
        assert (path is None) == (answer.json["next_cursor"] is None)
    assert seen == expected_order(session, REVIEWER)
    first = api.get("/api/v1/tasks?limit=4", REVIEWER).json
    tampered = first["next_cursor"][:-3] + ("AAA" if not first["next_cursor"].endswith("AAA") else "BBB")
    for bad in (f"/api/v1/tasks?cursor={tampered}", "/api/v1/tasks?cursor=%C3%A9t%C3%A9",
                "/api/v1/tasks?limit=0", "/api/v1/tasks?limit=201", "/api/v1/tasks?step=pas%20un%20id",
                "/api/v1/tasks?page=2"):
        answer = api.get(bad, REVIEWER)
        assert answer.status_code == 400, bad
        assert answer.json["message"].startswith(("Paramètre", "Le curseur de pagination est invalide")), bad
    assert api.get(f"/api/v1/tasks?cursor={tampered}", REVIEWER).json["message"].startswith(
        "Le curseur de pagination est invalide")
    steps = api.get("/api/v1/tasks?step=publish_offer&limit=200", REVIEWER).json["items"]
    assert steps and {item["name"] for item in steps} == {"publish_offer"}


def test_counts_by_kind_come_from_one_statement_and_stay_within_the_territory(session):
    add_tasks(session, "UDOGEC-35", "35", mixed_tasks(10))
    add_tasks(session, "UDOGEC-29", "29", [("review_project", REVIEW_TITLE, 1, 1)] * 7
              + [("sign_contract", "Établir le contrat", None, 2)] * 2)
    reviewer, statements = principal_of(session, REVIEWER), []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - the statement's text
    event.listen(session.get_bind(), "before_cursor_execute", listener)
    try:
        mine = task_groups(session, reviewer, NOW)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listener)
    assert len(statements) == 1 and "GROUP BY" in statements[0]
    rows = actionable_tasks(session, principal_of(session, REVIEWER))
    expected: dict[tuple[str, str | None], int] = {}
    for task, instance, _school in rows:
        expected[(task.spec_id, instance.campaign)] = expected.get((task.spec_id, instance.campaign), 0) + 1
    assert {(group.spec_id, group.campaign): group.count for group in mine} == expected
    assert "sign_contract" not in {group.spec_id for group in mine}
    theirs = {group.spec_id: group.count for group in task_groups(session, principal_of(session, OTHER), NOW)}
    assert theirs["review_project"] >= 7 and theirs["sign_contract"] >= 2
    review = next(group for group in mine if group.spec_id == "review_project")
    assert review.overdue == sum(1 for task, _i, _s in rows
                                 if task.spec_id == "review_project" and task.due_at and task.due_at < NOW)


def test_late_groups_come_first_then_the_nearest_due_date(session):
    add_tasks(session, "UDOGEC-35", "35", [("publish_offer", "Publier l'offre de mission", 5, 9),
                                           ("review_project", REVIEW_TITLE, -1, 6),
                                           ("review_project", REVIEW_TITLE, 12, 2),
                                           ("select_volunteers", "Choisir les volontaires", None, 20)],
              campaign="2030-2031")
    groups = [group for group in task_groups(session, principal_of(session, REVIEWER), NOW)
              if group.campaign == "2030-2031"]
    assert [group.spec_id for group in groups] == ["review_project", "publish_offer", "select_volunteers"]
    assert (groups[0].count, groups[0].overdue, groups[0].next_due) == (2, 1, NOW - timedelta(days=1))
    assert (groups[2].next_due, groups[2].oldest) == (None, NOW - timedelta(days=20))


def home_text(response) -> str:
    """A page's HTML with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def test_home_page_shows_counts_as_filters_and_a_next_page_link(session, browser):
    add_tasks(session, "UDOGEC-35", "35", [("review_project", REVIEW_TITLE, 3, 1)] * 55)
    add_tasks(session, "UDOGEC-29", "29", [("review_project", REVIEW_TITLE, 1, 1)] * 4)
    reviews = sum(1 for task, _i, _s in actionable_tasks(session, principal_of(session, REVIEWER))
                  if task.spec_id == "review_project")
    browser.login(REVIEWER)
    first = browser.client.get("/")
    assert first.status_code == 200
    page = home_text(first)
    assert f"{REVIEW_TITLE} : {reviews}" in page
    assert "etape=review_project" in page and "Tâches suivantes" in page
    assert page.count('href="/taches/') == 50
    cursor = inbox_page(session, principal_of(session, REVIEWER), 50).next_cursor
    assert f"apres={cursor}" in page
    second = home_text(browser.client.get(f"/?apres={cursor}"))
    assert "Revenir au début de la liste" in second
    listed = home_text(browser.client.get("/?etape=publish_offer")).split('id="titre-taches"')[1]
    assert REVIEW_TITLE + "</a>" not in listed.split("</section>")[0]
    refused = browser.client.get("/?apres=pas-un-curseur")
    assert refused.status_code == 400
    assert "Le curseur de pagination est invalide" in home_text(refused)


def test_pages_cost_the_same_statements_whatever_their_rank(session, api, browser, app):
    add_tasks(session, "UDOGEC-35", "35", mixed_tasks(130))
    browser.login(REVIEWER)
    api.token(REVIEWER)
    counter = Statements.of_app(app)
    try:
        first_api = counter.of(lambda: api.get("/api/v1/tasks?limit=20", REVIEWER))
        following = api.get("/api/v1/tasks?limit=20", REVIEWER).json["next"]
        third = api.get(api.get(following, REVIEWER).json["next"], REVIEWER).json["next"]
        later_api = counter.of(lambda: api.get(third, REVIEWER))
        first_page = counter.of(lambda: browser.client.get("/"))
        cursor = inbox_page(session, principal_of(session, REVIEWER), 50).next_cursor
        later_page = counter.of(lambda: browser.client.get(f"/?apres={cursor}"))
    finally:
        counter.close()
    # The token and its person, then the page: two statements, the first page as the third.
    assert first_api == later_api == 2
    assert first_page == later_page


def test_paginated_home_page_in_chromium(session, app, chromium, tmp_path):
    add_tasks(session, "UDOGEC-35", "35", mixed_tasks(70))
    with served_in_thread(app) as live:
        page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.route("https://**/*", lambda route: route.abort())
        page.goto(f"{live}/connexion")
        page.fill("input[name=login]", REVIEWER)
        page.fill("input[name=password]", "demo-campagne")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live}/")
        assert page.locator(".task-table tbody tr").count() == 50
        kinds = page.locator(".task-kinds a")
        assert kinds.count() >= 2
        page.screenshot(path=str(Path(tmp_path) / "accueil-page-1.png"), full_page=True)
        first_rows = page.locator(".task-table tbody tr td:first-child a").evaluate_all(
            "links => links.map(link => link.getAttribute('href'))")
        page.click("text=Tâches suivantes")
        page.wait_for_selector("text=Revenir au début de la liste")
        second_rows = page.locator(".task-table tbody tr td:first-child a").evaluate_all(
            "links => links.map(link => link.getAttribute('href'))")
        assert second_rows and not set(first_rows) & set(second_rows)
        page.click(".task-kinds a >> nth=1")
        page.wait_for_url("**etape=**")
        page.screenshot(path=str(Path(tmp_path) / "accueil-filtre.png"), full_page=True)
        page.context.close()


def test_gunicorn_workers_freeze_their_start_up_objects_and_collect_young_objects_less_often(app):
    settings = runpy.run_path(str(Path(__file__).parent.parent / "gunicorn.conf.py"))
    gc.unfreeze()
    threshold = gc.get_threshold()
    try:
        # A worker as gunicorn hands it to the hook: the app it loaded is `worker.wsgi`.
        settings["post_worker_init"](SimpleNamespace(wsgi=app))
        # What the process held is out of every generation: a full collection no longer walks it.
        assert gc.get_freeze_count() > 10 * len(gc.get_objects())
        assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
