"""Paged lists: one helper cuts every list, absurd page numbers never fail, ties keep a stable order."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update

from engine.models import Establishment, Notification, Person, ProcessInstance
from engine.views.pages import Page, bounded_page, paginate
from engine.views.queries import InstanceSearch, search_instances

from conftest import principal_of

ABSURD_PAGES = ["99999999999999999999", "-3", "abc", "0", "", "1.5", "١٢"]


@pytest.fixture
def projects(runtime, session):
    """Five hosting projects of Rennes (earlier campaigns), all changed at the same moment."""
    rennes = session.scalar(select(Establishment).where(Establishment.uai == "0350781J"))
    started = [runtime.start("hosting_project", principal_of(session, "referent.rennes"), establishment=rennes,
                             campaign=f"20{year}-20{year + 1}") for year in range(20, 25)]
    ids = [instance.id for instance in started]
    session.execute(update(ProcessInstance).where(ProcessInstance.id.in_(ids))
                    .values(updated_at=datetime(2027, 3, 15, 10, 0)))
    session.commit()
    return ids


@pytest.fixture
def notices(session):
    """Three messages to referent.rennes."""
    person = session.scalar(select(Person).where(Person.login == "referent.rennes"))
    for number in range(3):
        session.add(Notification(person_id=person.id, recipient="referent.rennes@example.org",
                                 subject=f"Message {number}", body="Bonjour.", created_at=datetime(2027, 3, number + 1)))
    session.commit()


def test_a_page_knows_its_neighbours():
    page = Page(items=[1, 2], number=2, size=2, total=5)
    assert (page.last, page.has_previous, page.has_next) == (3, True, True)
    assert Page(items=[], number=1, size=50, total=0).last == 1
    assert not Page(items=[5], number=3, size=2, total=5).has_next


@pytest.mark.parametrize(("number", "expected"), [(-3, 1), (0, 1), (2, 2), (3, 3), (10**20, 3)])
def test_page_numbers_are_bounded_by_the_list(number, expected):
    assert bounded_page(number, 2, 5) == expected


def test_paginate_clamps_unless_told_not_to(session, notices):
    query = select(Notification).order_by(Notification.created_at.desc(), Notification.id.desc())
    last = paginate(session, query, 10**20, 2)
    assert (last.number, last.total, [n.subject for n in last.items]) == (2, 3, ["Message 0"])
    beyond = paginate(session, query, 3, 2, clamp=False)
    assert (beyond.number, beyond.total, beyond.items) == (3, 3, [])


def test_instances_changed_at_the_same_moment_keep_one_order(session, projects):
    pilote = principal_of(session, "pilote")
    search = InstanceSearch(process="hosting_project", establishment_uai="0350781J")
    pages = [search_instances(session, pilote, search, number, 2) for number in (1, 2, 3)]
    listed = [instance.id for page in pages for instance, _establishment in page.items]
    assert listed == sorted(projects, reverse=True)


@pytest.mark.parametrize("number", ABSURD_PAGES)
def test_absurd_page_numbers_on_the_instance_list(browser, projects, number):
    browser.login("referent.rennes")
    response = browser.client.get(f"/dossiers/?page={number}")
    assert response.status_code == 200
    assert "5 dossiers" in response.get_data(as_text=True)


@pytest.mark.parametrize("number", ABSURD_PAGES)
def test_absurd_page_numbers_on_the_notifications(browser, notices, number):
    browser.login("referent.rennes")
    response = browser.client.get(f"/notifications/?page={number}")
    assert response.status_code == 200 and "Message 2" in response.get_data(as_text=True)


def test_an_old_page_number_shows_the_first_page_of_the_dossiers(browser, projects, monkeypatch):
    monkeypatch.setattr("webapp.instances.LIST_LIMIT", 2)
    browser.login("referent.rennes")
    html = browser.client.get("/dossiers/?page=99999999999999999999").get_data(as_text=True)
    assert f'href="/dossiers/{max(projects)}"' in html and f'href="/dossiers/{min(projects)}"' not in html
    assert "Page suivante" in html and "Revenir au début" not in html


@pytest.mark.parametrize("path", ["/suivi/", "/notifications/courriels"])
def test_absurd_page_numbers_on_the_lists_of_process_owners(browser, path):
    browser.login("pilote")
    assert browser.client.get(f"{path}?page=99999999999999999999").status_code == 200


def test_the_api_keeps_its_page_as_asked(api, projects):
    asked = api.get("/api/v1/instances?page=100000&per_page=100", "referent.rennes")
    assert asked.status_code == 200
    assert (asked.json["page"], asked.json["items"], asked.json["total"]) == (100000, [], 5)
    too_far = api.get("/api/v1/instances?page=99999999999999999999", "referent.rennes")
    assert too_far.status_code == 400 and "entier de 1 à 100000" in too_far.json["message"]
