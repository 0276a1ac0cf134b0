"""The dossier list (/dossiers/ and GET /api/v1/instances) and the messages (a person's, the outbox) are read in
pages cut by keyset: every row once, in a stable order, even while rows are created between pages; cursors
cannot be forged; the counts by status stay within the person's scope; a following page costs the statements
of the first."""
from __future__ import annotations

import base64
import html
import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from engine.access import instance_filter
from engine.models import Deployment, Establishment, Notification, Person, ProcessInstance
from engine.views.cursors import InvalidCursor, encode_key
from engine.views.inbox import Cursor
from engine.views.queries import InstanceSearch, instance_page

from conftest import principal_of
from test_query_counts import Statements

REVIEWER = "gestionnaire.udogec35"
NOW = datetime(2027, 3, 15, 10, 0)


def add_dossiers(session, department: str, count: int, *, status: str = "running", campaign: str = "2027-2028",
                 start: datetime = NOW) -> list[int]:
    """Hosting projects of a school of the department; every third shares its last change with the one before,
    so that the id decides between them. Return their ids."""
    deployment = session.scalar(select(Deployment).order_by(Deployment.id.desc()).limit(1))
    school = session.scalar(select(Establishment).where(Establishment.department == department).limit(1))
    instances = [ProcessInstance(deployment_id=deployment.id, process_id="hosting_project",
                                 title=f"Projet d'accueil {department} n° {number}", establishment_id=school.id,
                                 department=department, structure_code=None, campaign=campaign, status=status,
                                 created_at=start, updated_at=start - timedelta(minutes=number - number % 3),
                                 version=1)
                 for number in range(count)]
    session.add_all(instances)
    session.commit()
    return [instance.id for instance in instances]


def expected_order(session, login: str, search: InstanceSearch | None = None) -> list[int]:
    """Every dossier the person sees (of a status, if asked), in the list's order computed here."""
    conditions = [instance_filter(principal_of(session, login))]
    if search and search.status:
        conditions.append(ProcessInstance.status == search.status)
    rows = session.execute(select(ProcessInstance.updated_at, ProcessInstance.id).where(*conditions)).all()
    return [instance_id for _updated, instance_id in sorted(rows, reverse=True)]


def walk(session, login: str, limit: int, search: InstanceSearch | None = None, between=None) -> list[list[int]]:
    """The ids of each page, following the cursors to the end; `between()` runs after each page."""
    pages, cursor = [], None
    while True:
        page = instance_page(session, principal_of(session, login), search or InstanceSearch(), limit, cursor)
        pages.append([instance.id for instance, _school in page.items])
        if page.next_cursor is None:
            return pages
        if between:
            between()
        cursor = page.next_cursor


def test_pages_give_every_dossier_once_in_the_list_order(session):
    add_dossiers(session, "35", 23)
    add_dossiers(session, "29", 4, status="completed")
    pages = walk(session, "pilote", 5)
    listed = [instance_id for page in pages for instance_id in page]
    assert listed == expected_order(session, "pilote") and len(set(listed)) == len(listed) >= 27
    assert all(len(page) == 5 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 5


def test_dossiers_created_between_pages_neither_repeat_nor_hide_another(session):
    add_dossiers(session, "35", 17)
    before = expected_order(session, REVIEWER)
    created: list[int] = []
    # Each new dossier changed last (as a new one is): it goes to the top, before any cursor.
    pages = walk(session, REVIEWER, 4, between=lambda: created.extend(
        add_dossiers(session, "35", 1, start=NOW + timedelta(hours=len(created) + 1))))
    listed = [instance_id for page in pages for instance_id in page]
    assert len(created) == len(pages) - 1 >= 4
    assert listed == before and not set(created) & set(listed)
    # Back to the beginning, the new ones come first.
    assert walk(session, REVIEWER, 100)[0][:len(created)] == created[::-1]


def test_a_status_filter_pages_within_it_and_counts_every_status(session):
    add_dossiers(session, "35", 9)
    add_dossiers(session, "35", 6, status="completed", start=NOW - timedelta(days=1))
    search = InstanceSearch(status="completed")
    pages = walk(session, REVIEWER, 4, search)
    assert [i for page in pages for i in page] == expected_order(session, REVIEWER, search)
    page = instance_page(session, principal_of(session, REVIEWER), search, 4)
    assert page.total == 6 and page.by_status["running"] >= 9 and page.by_status["completed"] == 6


@pytest.mark.parametrize("forged", [
    "nimportequoi",
    encode_key(["dossiers", NOW, "12"]),
    encode_key(["dossiers", NOW, -3]),
    encode_key(["dossiers", NOW, True]),
    encode_key(["dossiers", "hier", 12]),
    encode_key(["taches", NOW, 12]),
    encode_key(["dossiers", NOW]),
    base64.urlsafe_b64encode(json.dumps({"id": 1}).encode()).decode(),
    Cursor(None, NOW, "abc").encode(),
    "A" * 201,
])
def test_forged_cursors_are_refused(session, forged):
    with pytest.raises(InvalidCursor):
        instance_page(session, principal_of(session, "pilote"), InstanceSearch(), 10, forged)


def test_a_forged_cursor_answers_400_in_french_on_the_page_and_the_api(session, api, browser):
    add_dossiers(session, "35", 3)
    forged = Cursor(None, NOW, "abc").encode()
    browser.login(REVIEWER)
    page = browser.client.get(f"/dossiers/?apres={forged}")
    assert page.status_code == 400
    assert "Le curseur de pagination est invalide" in html.unescape(page.get_data(as_text=True))
    answer = api.get(f"/api/v1/instances?cursor={forged}", REVIEWER)
    assert answer.status_code == 400 and "curseur de pagination est invalide" in answer.json["message"]


def test_counts_never_include_another_territory(session, api, browser):
    mine = add_dossiers(session, "35", 7)
    add_dossiers(session, "35", 2, status="completed")
    add_dossiers(session, "29", 11)
    add_dossiers(session, "29", 5, status="incident")
    page = instance_page(session, principal_of(session, REVIEWER), InstanceSearch(), 3)
    seen = expected_order(session, REVIEWER)
    assert set(mine) <= set(seen) and page.total == len(seen)
    assert page.by_status.get("incident", 0) == 0 and page.by_status["completed"] == 2
    listing = api.get("/api/v1/instances?limit=3", REVIEWER).json
    assert listing["total"] == len(seen) and listing["by_status"] == page.by_status
    browser.login(REVIEWER)
    text = html.unescape(browser.client.get("/dossiers/").get_data(as_text=True))
    assert f"{len(seen)} dossiers." in text and "En incident (0)" in text


def test_the_api_walks_the_pages_by_next_keeping_the_filters(session, api):
    add_dossiers(session, "35", 11)
    add_dossiers(session, "35", 4, status="completed")
    listing = api.get("/api/v1/instances?status=running&limit=4", REVIEWER).json
    seen, pages = [], 0
    while True:
        seen += [item["id"] for item in listing["items"]]
        pages += 1
        if listing["next"] is None:
            assert listing["next_cursor"] is None
            break
        assert parse_qs(urlsplit(listing["next"]).query)["status"] == ["running"]
        listing = api.get(listing["next"], REVIEWER).json
    assert seen == expected_order(session, REVIEWER, InstanceSearch(status="running")) and pages >= 3


def test_the_page_links_keep_the_filters_and_lead_back_to_the_beginning(session, browser, monkeypatch):
    monkeypatch.setattr("webapp.instances.LIST_LIMIT", 3)
    add_dossiers(session, "35", 8)
    browser.login(REVIEWER)
    first = html.unescape(browser.client.get("/dossiers/?campagne=2027-2028").get_data(as_text=True))
    assert "Revenir au début" not in first
    following = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "campagne=2027-2028" in following and "apres=" in following and "Page suivante" in first
    second = html.unescape(browser.client.get(following).get_data(as_text=True))
    assert "Revenir au début de la liste" in second
    order = expected_order(session, REVIEWER)
    assert f'href="/dossiers/{order[3]}"' in second and f'href="/dossiers/{order[2]}"' not in second


def test_a_following_page_costs_the_statements_of_the_first(session, api, browser, app):
    add_dossiers(session, "35", 40)
    browser.login(REVIEWER)
    api.token(REVIEWER)
    counter = Statements.of_app(app)
    try:
        first_api = counter.of(lambda: api.get("/api/v1/instances?limit=10", REVIEWER))
        following = api.get("/api/v1/instances?limit=10", REVIEWER).json["next"]
        third = api.get(following, REVIEWER).json["next"]
        later_api = counter.of(lambda: api.get(third, REVIEWER))
        first_page = counter.of(lambda: browser.client.get("/dossiers/"))
        cursor = instance_page(session, principal_of(session, REVIEWER), InstanceSearch(), 20).next_cursor
        later_page = counter.of(lambda: browser.client.get(f"/dossiers/?apres={cursor}"))
    finally:
        counter.close()
    # The token with its person, the page, its counts by status, the open tasks of its dossiers.
    assert first_api == later_api == 4
    assert first_page == later_page


def add_messages(session, login: str, count: int, start: datetime = NOW, sent: bool = False) -> list[int]:
    """Messages to a person, two by two at the same moment, so that the id decides between them."""
    person = session.scalar(select(Person).where(Person.login == login))
    notices = [Notification(person_id=person.id, recipient=f"{login}@example.org", subject=f"Message {number}",
                            body="Bonjour.", created_at=start - timedelta(hours=number // 2),
                            sent_at=start if sent else None)
               for number in range(count)]
    session.add_all(notices)
    session.commit()
    return [notice.id for notice in notices]


def message_ids(text: str) -> list[str]:
    """The subjects of the messages a page lists, in order."""
    return [part.split("<")[0] for part in text.split("Message ")[1:]]


def test_the_outbox_pages_give_every_message_once_while_messages_arrive(session, browser, monkeypatch):
    monkeypatch.setattr("webapp.notifications.PAGE_SIZE", 4)
    add_messages(session, "referent.rennes", 9)
    add_messages(session, "tuteur.paris", 6, start=NOW - timedelta(days=1), sent=True)
    expected = [f"{n}" for n in session.scalars(select(Notification.id).order_by(
        Notification.created_at.desc(), Notification.id.desc()))]
    subjects = {str(n.id): n.subject for n in session.scalars(select(Notification))}
    browser.login("pilote")
    address, seen, arrived = "/notifications/courriels", [], 0
    while address:
        text = html.unescape(browser.client.get(address).get_data(as_text=True))
        seen += [f"Message {subject}" for subject in message_ids(text)]
        following = text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0] if 'rel="next"' in text else None
        if following:
            arrived += 1
            add_messages(session, "referent.rennes", 1, start=NOW + timedelta(days=arrived))
        address = following
    assert seen == [subjects[n] for n in expected] and arrived >= 3
    sent = html.unescape(browser.client.get("/notifications/courriels?statut=sent").get_data(as_text=True))
    assert "6 messages" in sent and 'statut=sent' in sent.split('rel="next"')[0].rsplit('href="', 1)[1]


def test_a_person_pages_through_their_own_messages_only(session, browser, monkeypatch):
    monkeypatch.setattr("webapp.notifications.PAGE_SIZE", 2)
    add_messages(session, "referent.rennes", 5)
    add_messages(session, "tuteur.paris", 3)
    browser.login("referent.rennes")
    address, seen = "/notifications/", []
    while address:
        text = html.unescape(browser.client.get(address).get_data(as_text=True))
        seen += message_ids(text)
        address = text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0] if 'rel="next"' in text else None
    # Newest first; two messages of the same moment, the later written first.
    assert seen == ["1", "0", "3", "2", "4"]


def test_a_dossier_cursor_is_refused_by_the_messages(session, browser):
    cursor = encode_key(["dossiers", NOW, 12])
    browser.login("pilote")
    assert browser.client.get(f"/notifications/courriels?apres={cursor}").status_code == 400
    assert browser.client.get(f"/notifications/?apres={cursor}").status_code == 400
