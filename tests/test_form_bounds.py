"""Served forms carry the limits of the rules: weekly hours, host complement, the campaign's start window."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from test_contract import with_volunteer_file

from engine.form_checks import validate
from engine.forms import Form
from engine.runtime.form_bounds import form_bounds
from handlers.contract import contract_terms_rules
from handlers.rules import ELIGIBILITY, INDEMNITY

from conftest import principal_of
from test_processes import accepted_project, do, ready, sample

FORMS = Path(__file__).resolve().parent.parent / "forms"
# The demo campaign 2027-2028: missions start from 1 September 2027 to 31 January 2028.
CAMPAIGN = {"school_year": "2027-2028", "earliest_start": "2027-09-01", "latest_start": "2028-01-31"}


def served(runtime, session, instance_id: int, spec_id: str, login: str):
    """The ready task `spec_id` of an instance, and its form as served to `login`."""
    (row,) = ready(session, instance_id, spec_id)
    waiting = runtime.ready_task(row.id, principal_of(session, login))
    return waiting, runtime.task_form(waiting)


@pytest.fixture
def volunteer_file(runtime, session):
    """A Rennes project whose volunteer file is to fill, and its served form."""
    instance = accepted_project(runtime, session)
    do(runtime, session, instance.id, "referent.rennes", "select_volunteer", sample("select_volunteer"))
    do(runtime, session, instance.id, "tuteur.rennes", "confirm_selection", sample("confirm_selection"))
    return served(runtime, session, instance.id, "volunteer_file", "referent.rennes")


@pytest.fixture
def contract_terms(runtime, session):
    """A Rennes project whose contract terms are to draw up, and its served form."""
    instance = with_volunteer_file(runtime, session)
    return served(runtime, session, instance.id, "draw_up_contract", "gestionnaire.udogec35")


def test_bounds_come_from_the_rules_and_the_campaign():
    bounds = form_bounds("volunteer_file", CAMPAIGN)
    assert (bounds["weekly_hours"]["minimum"], bounds["weekly_hours"]["maximum"]) == (
        ELIGIBILITY["min_weekly_hours"], ELIGIBILITY["max_weekly_hours"])
    assert bounds["start_date"] == {
        "x-earliest": "2027-09-01", "x-latest": "2028-01-31",
        "x-message": "Dans la campagne 2027-2028, les missions commencent entre le 1er septembre 2027 et le "
                     "31 janvier 2028."}
    # The last day depends on the first one, typed in the same form: the rule checks it.
    assert "end_date" not in bounds
    assert form_bounds("volunteer_file", None) == {"weekly_hours": bounds["weekly_hours"]}
    assert form_bounds("draw_up_contract", None)["host_complement_amount"]["minimum"] == INDEMNITY[
        "host_complement_min_monthly"]


def test_the_served_volunteer_file_states_the_hours_and_the_window(volunteer_file):
    _, form = volunteer_file
    assert {key: form.properties["weekly_hours"][key] for key in ("minimum", "maximum")} == {"minimum": 24,
                                                                                              "maximum": 48}
    start = form.field_named("start_date")
    assert (start.min_date, start.max_date) == ("2027-09-01", "2028-01-31")


@pytest.mark.parametrize(("hours", "refused"), [(23, True), (24, False), (48, False), (49, True)])
def test_weekly_hours_on_each_side_of_the_limits(runtime, volunteer_file, hours, refused):
    waiting, _ = volunteer_file
    errors = runtime.validate(waiting, sample("volunteer_file", weekly_hours=hours))
    assert ("weekly_hours" in errors) is refused
    if refused:
        assert errors["weekly_hours"] == ["La durée hebdomadaire est comprise entre 24 et 48 heures (35 au plus pour "
                                          "un volontaire mineur)."]


@pytest.mark.parametrize(("start", "refused"), [("2027-08-31", True), ("2027-09-01", False),
                                                 ("2028-01-31", False), ("2028-02-01", True)])
def test_mission_start_on_each_side_of_the_campaign_window(runtime, volunteer_file, start, refused):
    waiting, _ = volunteer_file
    errors = runtime.validate(waiting, sample("volunteer_file", start_date=start, end_date="2028-08-31"))
    assert ("start_date" in errors) is refused
    if refused:
        assert errors["start_date"] == ["Dans la campagne 2027-2028, les missions commencent entre le "
                                        "1er septembre 2027 et le 31 janvier 2028."]


@pytest.mark.parametrize(("amount", "refused"), [(114.84, True), (114.85, False)])
def test_host_complement_on_each_side_of_the_minimum(runtime, session, contract_terms, amount, refused):
    waiting, form = contract_terms
    assert form.properties["host_complement_amount"]["minimum"] == 114.85
    errors = runtime.validate(waiting, sample("draw_up_contract", host_complement_amount=amount))
    assert ("host_complement_amount" in errors) is refused
    if refused:
        assert errors["host_complement_amount"] == ["La prestation de subsistance est d'au moins 114,85\u00a0€ par "
                                                    "mois."]


@pytest.mark.parametrize(("start", "refused"), [("2027-08-31", True), ("2027-09-01", False),
                                                 ("2028-01-31", False), ("2028-02-01", True)])
def test_contract_start_on_each_side_of_the_campaign_window(runtime, contract_terms, start, refused):
    waiting, form = contract_terms
    assert form.field_named("contract_start_date").min_date == "2027-09-01"
    errors = runtime.validate(waiting, sample("draw_up_contract", contract_start_date=start,
                                              contract_end_date="2028-07-31"))
    assert ("contract_start_date" in errors) is refused


class _Context:
    """What the contract rules read: the campaign only."""

    campaign = {**CAMPAIGN, "submission_deadline": "2027-05-31", "submission_open": True}


@pytest.mark.parametrize(("amount", "refused"), [(114.84, True), (114.85, False)])
def test_the_rule_refuses_the_same_host_complement(amount, refused):
    problems = contract_terms_rules(_Context(), sample("draw_up_contract", host_complement_amount=amount),
                                    {"volunteer": sample("volunteer_file")})
    assert ("host_complement_amount" in dict(problems)) is refused


@pytest.mark.parametrize(("start", "refused"), [("2027-08-31", True), ("2027-09-01", False),
                                                 ("2028-01-31", False), ("2028-02-01", True)])
def test_the_rule_refuses_the_same_contract_start(start, refused):
    problems = contract_terms_rules(_Context(), sample("draw_up_contract", contract_start_date=start,
                                                       contract_end_date="2028-07-31"),
                                    {"volunteer": sample("volunteer_file")})
    assert ("contract_start_date" in dict(problems)) is refused


def test_the_api_task_schema_carries_the_bounds(runtime, session, api):
    instance = with_volunteer_file(runtime, session)
    (row,) = ready(session, instance.id, "draw_up_contract")
    schema = api.get(f"/api/v1/tasks/{row.id}", "gestionnaire.udogec35").json["schema"]
    assert schema["properties"]["host_complement_amount"]["minimum"] == 114.85
    assert schema["properties"]["contract_start_date"]["x-earliest"] == "2027-09-01"
    assert "x-earliest" not in schema["properties"]["contract_end_date"]


DATED = Form(schema={"type": "object", "properties": {
    "day": {"type": "string", "format": "date", "x-earliest": "2027-09-01", "x-latest": "2028-01-31"},
    "fact": {"type": "string", "format": "date", "x-not-after-today": True, "x-latest": "2027-12-31"}}})


@pytest.mark.parametrize(("day", "message"), [
    ("2027-08-31", "Cette date doit être au plus tôt le 1er septembre 2027."),
    ("2027-09-01", None), ("2028-01-31", None),
    ("2028-02-01", "Cette date doit être au plus tard le 31 janvier 2028."),
    ("31/01/2028", "Date invalide : indiquez une date au format JJ/MM/AAAA."),
])
def test_date_bounds_keywords(day, message):
    errors = validate(DATED, {"day": day}, date(2027, 10, 1))
    assert errors.get("day") == ([message] if message else None)


def test_a_fact_date_input_stops_at_the_earlier_of_today_and_its_bound():
    fields = {field.name: field for field in DATED.fields(date(2027, 10, 1))}
    assert (fields["day"].min_date, fields["day"].max_date) == ("2027-09-01", "2028-01-31")
    assert fields["fact"].max_date == "2027-10-01"
    assert {f.name: f.max_date for f in DATED.fields(date(2028, 3, 1))}["fact"] == "2027-12-31"


def test_the_task_page_sets_the_bounds_on_its_inputs(runtime, session, volunteer_file, browser):
    waiting, _ = volunteer_file
    browser.login("referent.rennes")
    page = browser.client.get(f"/taches/{waiting.row.id}").get_data(as_text=True)
    hours = re.search(r'<input[^>]*name="weekly_hours"[^>]*>', page).group(0)
    assert 'min="24"' in hours and 'max="48"' in hours
    start = re.search(r'<input[^>]*name="start_date"[^>]*>', page).group(0)
    assert 'max="2028-01-31"' in start


def project_form() -> Form:
    """The project form as served in the demo campaign."""
    schema = json.loads((FORMS / "design_project.schema.json").read_text(encoding="utf-8"))
    return Form(schema=schema).with_bounds(form_bounds("design_project", CAMPAIGN))


@pytest.mark.parametrize(("field", "value", "refused"), [
    ("duration_months", 5, True), ("duration_months", 6, False), ("duration_months", 12, False),
    ("duration_months", 13, True),
    ("weekly_hours", 23, True), ("weekly_hours", 24, False), ("weekly_hours", 48, False), ("weekly_hours", 49, True),
    ("desired_start_date", "2027-08-31", True), ("desired_start_date", "2027-09-01", False),
    ("desired_start_date", "2028-01-31", False), ("desired_start_date", "2028-02-01", True),
])
def test_the_project_form_states_the_same_limits(field, value, refused):
    errors = validate(project_form(), {field: value}, date(2027, 3, 15))
    assert (field in errors) is refused
