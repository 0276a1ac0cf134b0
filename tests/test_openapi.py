"""The OpenAPI document matches the API's routes, and schemathesis finds no server error nor schema breach."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from sqlalchemy import select

from engine.directory.tokens import issue_token
from engine.models import Establishment, Person
from webapp.api.openapi import SPEC

from conftest import principal_of

pytestmark = pytest.mark.slow

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def api_routes(app) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every route of the app under /api/v1."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            routes |= {(path, method.lower()) for method in rule.methods - IGNORED_METHODS}
    return routes


def test_every_route_is_documented_and_every_documented_path_exists(app):
    documented = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    assert api_routes(app) == documented


def test_served_document_is_the_spec_and_its_schemas_are_valid(client):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.json == SPEC
    for schema in SPEC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for path, item in SPEC["paths"].items():
        for operation in item.values():
            assert operation["summary"] and operation["responses"], path
            named = re.findall(r"{([a-z_]+)}", path)
            assert named == [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"], path


@pytest.fixture
def fuzz_token(session, runtime):
    """Instances to find, and a way to get a fresh token of a référent who has tasks."""
    for login, uai in (("referent.rennes", "0350781J"), ("referent.pontivy", "0561433D")):
        establishment = session.scalar(select(Establishment).where(Establishment.uai == uai))
        runtime.start("hosting_project", principal_of(session, login), establishment=establishment,
                      campaign="2027-2028")
    person = session.scalar(select(Person).where(Person.login == "referent.rennes"))
    return lambda: issue_token(session, person, datetime.now())[0]


# The document the app serves is SPEC (checked above), so the cases are built from it at collection.
schema = schemathesis.openapi.from_dict(SPEC)


@schema.parametrize()
@settings(max_examples=50, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_fuzzing_finds_no_server_error_nor_schema_breach(case, app, fuzz_token):
    # The cases, and schemathesis' own probes (the same request without the token…), go to the app in process.
    case.operation.schema.app = app
    # A fresh token per case: the fuzzer also calls DELETE /auth/token, which revokes the token it sends.
    # Each task has its own form: a body valid for the document's generic object is rightly refused with 422.
    # An opaque page cursor is valid only as the API gave it out: one the fuzzer makes up is rightly refused with 400.
    made_up_cursor = "cursor" in (case.query or {})
    excluded = [positive_data_acceptance] if case.operation.path.endswith("/complete") or made_up_cursor else []
    # A query parameter valued None or [] is not sent at all (its curl shows it): the API cannot refuse it.
    if any(value is None or value == [] for value in (case.query or {}).values()):
        excluded.append(negative_data_rejection)
    case.call_and_validate(app=app, headers={"Authorization": f"Bearer {fuzz_token()}"}, excluded_checks=excluded)
