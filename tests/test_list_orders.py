"""The dossier list by creation, and the establishment list by UAI, cut by keyset.

By creation, a date that never changes, a client walking every page meets each dossier exactly once, whatever
changes meanwhile; establishments are walked by UAI, unique and never changed.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update
from test_list_pagination import NOW, REVIEWER, add_dossiers

from engine.access import instance_filter, viewable_establishments
from engine.models import Establishment, ProcessInstance
from engine.views.cursors import InvalidCursor, encode_key
from engine.views.establishments import EstablishmentSearch, establishment_page, folded_text
from engine.views.queries import InstanceSearch, instance_page

from conftest import principal_of


def by_creation(session, login: str) -> list[int]:
    """Every dossier the person sees, newest created first, the id breaking ties, computed here."""
    rows = session.execute(select(ProcessInstance.created_at, ProcessInstance.id)
                           .where(instance_filter(principal_of(session, login)))).all()
    return [instance_id for _created, instance_id in sorted(rows, reverse=True)]


def walk_by_creation(session, login: str, limit: int, between=None) -> list[int]:
    """The ids of every page by creation, following the cursors; `between(page)` runs after each page."""
    seen, cursor = [], None
    while True:
        page = instance_page(session, principal_of(session, login), InstanceSearch(), limit, cursor, order="created")
        seen += [instance.id for instance, _school in page.items]
        if page.next_cursor is None:
            return seen
        if between:
            between(seen)
        cursor = page.next_cursor


def test_by_creation_every_dossier_comes_once_while_dossiers_change_and_arrive(session):
    add_dossiers(session, "35", 9)
    add_dossiers(session, "35", 8, start=NOW - timedelta(days=2))
    before = by_creation(session, REVIEWER)
    created: list[int] = []

    def meanwhile(seen: list[int]) -> None:
        # A dossier already seen and one not yet seen change (by last change they would jump to the top), and a
        # new one arrives.
        unseen = [instance_id for instance_id in before if instance_id not in seen]
        changed = [seen[0], *unseen[-1:]]
        session.execute(update(ProcessInstance).where(ProcessInstance.id.in_(changed))
                        .values(updated_at=NOW + timedelta(days=len(created) + 1)))
        created.extend(add_dossiers(session, "35", 1, start=NOW + timedelta(hours=len(created) + 1)))

    listed = walk_by_creation(session, REVIEWER, 4, meanwhile)
    assert len(created) >= 4
    assert listed == before, "each dossier of the walk's start once, in creation order; the new ones come after it"
    assert walk_by_creation(session, REVIEWER, 100)[:len(created)] == created[::-1]


def test_a_cursor_of_one_order_is_refused_by_the_other(session):
    add_dossiers(session, "35", 5)
    reviewer = principal_of(session, REVIEWER)
    by_change = instance_page(session, reviewer, InstanceSearch(), 2)
    by_created = instance_page(session, reviewer, InstanceSearch(), 2, order="created")
    with pytest.raises(InvalidCursor):
        instance_page(session, reviewer, InstanceSearch(), 2, by_change.next_cursor, order="created")
    with pytest.raises(InvalidCursor):
        instance_page(session, reviewer, InstanceSearch(), 2, by_created.next_cursor)


def establishments_in_scope(session, login: str, name: str | None = None) -> list[str]:
    """The UAIs of the establishments the person may see (whose name holds `name`), in UAI order."""
    rows = session.execute(select(Establishment.uai, Establishment.name)
                           .where(viewable_establishments(principal_of(session, login)))).all()
    return sorted(uai for uai, school in rows if name is None or folded_text(name) in folded_text(school))


def walk_establishments(session, login: str, limit: int, search: EstablishmentSearch) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = establishment_page(session, principal_of(session, login), search, limit, cursor)
        pages.append([establishment.uai for establishment in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


@pytest.mark.parametrize("login", ["pilote", "gestionnaire.udogec35", "referent.rennes"])
def test_establishments_are_walked_by_uai_within_the_scope(session, login):
    pages = walk_establishments(session, login, 2, EstablishmentSearch())
    listed = [uai for page in pages for uai in page]
    assert listed == establishments_in_scope(session, login) and listed
    assert all(len(page) == 2 for page in pages[:-1])


def test_a_name_search_is_walked_by_uai_too(session):
    expected = establishments_in_scope(session, "pilote", "saint")
    assert len(expected) >= 2, "the demo directory has several schools named after a saint"
    pages = walk_establishments(session, "pilote", 1, EstablishmentSearch(name="SAINT"))
    assert [uai for page in pages for uai in page] == expected


@pytest.mark.parametrize("forged", [encode_key(["dossiers", NOW, 3]), encode_key(["etablissements", 35]),
                                    encode_key(["etablissements", "0350781J", "x"]), "pas-un-curseur"])
def test_forged_establishment_cursors_are_refused(session, forged):
    with pytest.raises(InvalidCursor):
        establishment_page(session, principal_of(session, "pilote"), EstablishmentSearch(), 2, forged)


def test_the_api_walks_the_dossiers_by_creation_keeping_the_order(session, api):
    add_dossiers(session, "35", 7)
    listing = api.get("/api/v1/instances?order=created&limit=3", REVIEWER).json
    seen = []
    while True:
        seen += [item["id"] for item in listing["items"]]
        if listing["next"] is None:
            break
        assert parse_qs(urlsplit(listing["next"]).query)["order"] == ["created"]
        listing = api.get(listing["next"], REVIEWER).json
    assert seen == by_creation(session, REVIEWER)


@pytest.mark.parametrize("query", ["order=oldest", "order=", "order=created&cursor=pas-un-curseur"])
def test_an_unknown_order_or_a_bad_cursor_is_400_in_french(api, query):
    response = api.get(f"/api/v1/instances?{query}", REVIEWER)
    assert response.status_code == 400 and "invalide" in response.json["message"]
