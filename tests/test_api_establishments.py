"""GET /api/v1/establishments: each role's scope, each filter, pages, and the same facts as each school file."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine.directory.tokens import issue_token
from engine.models import Establishment, Person, Structure
from engine.views.establishments import folded_text

RENNES, BREST, PONTIVY, PARIS, AJACCIO = "0350781J", "0291652N", "0561433D", "0754025T", "6200001G"


@pytest.fixture
def corsica(session):
    """A Corsican school (department 2A) whose name has a typographic apostrophe, its file barely begun."""
    session.add(Establishment(uai=AJACCIO, name="Institution Jeanne d’Arc", city="Ajaccio", department="2A",
                              network="SGEC"))
    session.commit()


def assert_error(response, status: int, code: str) -> None:
    assert (response.status_code, response.json["code"]) == (status, code), response.get_data(as_text=True)


def listing(api, login: str, query: str = "") -> dict:
    response = api.get(f"/api/v1/establishments?{query}", login)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def uais(api, login: str, query: str = "per_page=100") -> list[str]:
    return [item["uai"] for item in listing(api, login, query)["items"]]


def of_departments(session, *departments: str) -> list[str]:
    """UAIs of the establishments of some departments (all of them without any), as the directory holds them."""
    query = select(Establishment.uai).order_by(Establishment.uai)
    return list(session.scalars(query.where(Establishment.department.in_(departments)) if departments else query))


def territory(session, code: str) -> tuple[str, ...]:
    return tuple(session.scalar(select(Structure.departments).where(Structure.code == code)))


@pytest.mark.usefixtures("corsica")
def test_each_role_lists_the_establishments_of_its_scope(api, session):
    assert uais(api, "referent.rennes") == [RENNES]
    assert uais(api, "tuteur.brest") == [BREST]
    assert uais(api, "cotuteur.pontivy") == [PONTIVY]
    assert uais(api, "gestionnaire.udogec35") == of_departments(session, "35") and RENNES in of_departments(session, "35")
    assert uais(api, "gestionnaire.udogec29") == of_departments(session, "29")
    urogec = uais(api, "gestionnaire.urogec")
    assert urogec == of_departments(session, *territory(session, "UROGEC-BRETAGNE"))
    assert {RENNES, BREST, PONTIVY} <= set(urogec) and PARIS not in urogec and AJACCIO not in urogec
    assert uais(api, "gestionnaire.fnogec") == uais(api, "pilote") == of_departments(session)
    assert {PARIS, AJACCIO} <= set(uais(api, "pilote"))


def test_someone_without_a_role_lists_nothing(api, session):
    person = Person(login="sans.role", first_name="Sans", last_name="Rôle", email="sans.role@example.org")
    session.add(person)
    session.commit()
    api.tokens["sans.role"] = issue_token(session, person, datetime.now())[0]
    assert listing(api, "sans.role") == {"items": [], "limit": 20, "next_cursor": None, "next": None}
    assert listing(api, "sans.role", "page=1") == {"items": [], "total": 0, "page": 1, "per_page": 20}


@pytest.mark.usefixtures("corsica")
@pytest.mark.parametrize(("query", "expected"), [
    ("department=29", [BREST]),
    ("department=2a", [AJACCIO]),
    ("department=75&uai=0291652N", []),
    (f"uai={PONTIVY.lower()}", [PONTIVY]),
    # Names: any part, whatever the case and the accents of either side, ligatures and apostrophes folded.
    ("name=sainte-anne", [BREST]),
    ("name=LYCEE", [BREST, PONTIVY]),
    ("name=ecole", [PARIS]),
    ("name=%C3%A9COLE%20SAINTE", [PARIS]),
    ("name=coll%C3%A8ge", [RENNES]),
    ("name=d'arc", [AJACCIO]),
    ("name=D%E2%80%99ARC", [AJACCIO]),
    ("name=saint", [BREST, RENNES, PONTIVY, PARIS]),
    ("name=saint&department=56", [PONTIVY]),
    # Wildcards of SQL are plain characters here.
    ("name=%25", []),
    ("name=_", []),
])
def test_each_filter_narrows_the_list(api, session, query, expected):
    expected_in_order = sorted(expected)
    assert uais(api, "pilote", f"{query}&per_page=100") == expected_in_order
    # Filters never widen a scope.
    assert uais(api, "gestionnaire.udogec29", f"{query}&per_page=100") == [u for u in expected_in_order if u == BREST]


@pytest.mark.usefixtures("corsica")
def test_pages_are_stable_and_a_page_past_the_end_is_empty(api, session):
    everyone = of_departments(session)
    walked = []
    for number in range(1, len(everyone) + 1):
        page = listing(api, "pilote", f"per_page=1&page={number}")
        assert (page["total"], page["page"], page["per_page"]) == (len(everyone), number, 1)
        walked += [item["uai"] for item in page["items"]]
    assert walked == everyone
    past = listing(api, "pilote", f"per_page=2&page={len(everyone)}")
    assert past["items"] == [] and past["total"] == len(everyone)
    assert listing(api, "pilote", "name=saint&per_page=2&page=1")["total"] == 4


@pytest.mark.usefixtures("corsica")
def test_the_pages_are_walked_by_next_keeping_the_filters(api, session):
    everyone = of_departments(session)
    walked, page = [], listing(api, "pilote", "limit=2")
    while True:
        walked += [item["uai"] for item in page["items"]]
        if page["next"] is None:
            assert page["next_cursor"] is None
            break
        assert page["limit"] == 2 and len(page["items"]) == 2
        page = api.get(page["next"], "pilote").json
    assert walked == everyone
    saints, page = [], listing(api, "pilote", "name=saint&limit=1")
    while page["next"] is not None:
        saints += [item["uai"] for item in page["items"]]
        assert "name=saint" in page["next"]
        page = api.get(page["next"], "pilote").json
    saints += [item["uai"] for item in page["items"]]
    assert len(saints) == 4 and saints == sorted(saints)
    assert_error(api.get("/api/v1/establishments?cursor=pas-un-curseur", "pilote"), 400, "bad_request")


@pytest.mark.usefixtures("corsica")
def test_each_item_summarises_its_school_file(api):
    items = {item["uai"]: item for item in listing(api, "pilote", "per_page=100")["items"]}
    assert items[RENNES] == {"id": items[RENNES]["id"], "uai": RENNES, "name": "Collège Saint-Joseph", "city": "Rennes",
                             "department": "35", "network": "SGEC", "pupil_count": 240,
                             "pupil_count_year": items[RENNES]["pupil_count_year"], "complete": True,
                             "url": f"/api/v1/establishments/{RENNES}"}
    assert items[PONTIVY]["complete"] is False and items[PONTIVY]["network"] == "CNEAP"
    assert items[AJACCIO]["complete"] is False and items[AJACCIO]["pupil_count"] is None
    for item in items.values():
        detail = api.get(item["url"], "pilote").json
        assert {key: detail[key] for key in item if key != "url"} == {k: v for k, v in item.items() if k != "url"}


@pytest.mark.parametrize("query", ["department=3", "department=2C", "department=%00", "uai=0350781", "uai=ABCDEFGH",
                                   "name=", "name=a%00b", "name=a%0Ab", f"name={'x' * 101}", "page=0", "per_page=101",
                                   "per_page=abc", "nom=saint"])
def test_bad_filters_are_400(api, query):
    assert_error(api.get(f"/api/v1/establishments?{query}", "pilote"), 400, "bad_request")


def test_names_are_compared_without_case_accents_nor_ligatures():
    assert folded_text("Œuvre d’Orient — ÉCOLE Saint-Exupéry") == "oeuvre d'orient — ecole saint-exupery"
    assert folded_text("e\u0301cole") == folded_text("École") == "ecole"


def test_the_list_needs_a_token(client):
    assert_error(client.get("/api/v1/establishments"), 401, "unauthorized")
