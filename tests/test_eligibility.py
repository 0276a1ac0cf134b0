"""Eligibility of the volunteer file, rule by rule, at each boundary (handler alone, with small fakes)."""
from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path

import pytest

from handlers.context import HandlerContext
from handlers.eligibility import add_months, check_eligibility, eligibility_problems, mission_end_bounds
from handlers.rules import ELIGIBILITY

from conftest import SAMPLES

CAMPAIGN = {"school_year": "2027-2028", "earliest_start": "2027-09-01", "latest_start": "2028-01-31"}
# A minor volunteer's legal representative, complete.
GUARDIAN = {"guardian_name": "Paul Martin", "guardian_phone": "06 11 22 33 44", "guardian_address": "4 allée des Tilleuls",
            "guardian_postal_code": "35510", "guardian_city": "Cesson-Sévigné"}
TUTORS = [
    {"login": "tuteur.rennes", "name": "Thomas Riou", "email": "tuteur.rennes@example.org", "phone": "+33635700010",
     "role": "tuteur", "role_label": "Tuteur", "eligible": True, "reason": None},
    {"login": "cotuteur.rennes", "name": "Claire Morvan", "email": "cotuteur.rennes@example.org",
     "phone": "+33635700020", "role": "cotuteur", "role_label": "Cotuteur", "eligible": True, "reason": None},
    {"login": "julien.lemoine", "name": "Julien Lemoine", "email": "julien.lemoine@example.org",
     "phone": "+33612345699", "role": "cotuteur", "role_label": "Cotuteur", "eligible": False,
     "reason": "aucune connexion à la plateforme pour l'instant"},
    {"login": "sans.telephone", "name": "Marc Sans", "email": "marc@example.org", "phone": None,
     "role": "tuteur", "role_label": "Tuteur", "eligible": False,
     "reason": "profil incomplet dans Isidoor : numéro de téléphone manquant"},
]


class FakeDirectory:
    """The school's tuteurs as the directory gives them."""

    def __init__(self, tutors):
        self._tutors = tutors

    def tutors(self, establishment_id):
        return self._tutors


class FakeContracts:
    """Contracts running elsewhere for the person."""

    def __init__(self, running=()):
        self.running = list(running)
        self.asked = []

    def engagements_for(self, first_name, last_name, birth_date, place=None):
        self.asked.append((first_name, last_name, birth_date, place))
        return self.running


def context(running=(), campaign=CAMPAIGN, tutors=TUTORS) -> HandlerContext:
    """A handler context with the fakes."""
    return HandlerContext(directory=FakeDirectory(tutors), contracts=FakeContracts(running), documents=None,
                          mailer=None, today=date(2027, 6, 15), campaign=campaign)


def volunteer(**changes) -> dict:
    """An eligible volunteer file (an adult starting on 1 October 2027 for 8 months), with some fields changed."""
    data = copy.deepcopy(SAMPLES["volunteer_file"])
    data["identity_document"] = {"document_id": 1, "filename": "cni.pdf"}
    data.update(changes)
    return data


def problems(data: dict, **kwargs) -> dict[str, list[str]]:
    """The rule messages by field."""
    found: dict[str, list[str]] = {}
    for field, message in eligibility_problems(data, context(**kwargs), establishment_id=1, place=1):
        found.setdefault(field, []).append(message)
    return found


def test_the_sample_is_eligible():
    assert problems(volunteer()) == {}
    assert check_eligibility(context(), volunteer(), 1) == {"eligible": True, "problems": []}


# Start on 1 October 2027: 16 on that day at the earliest, 25 at the latest (the day before the 26th birthday).
@pytest.mark.parametrize("birth_date, disability, expected", [
    ("2011-10-02", False, "au moins 16 ans"),     # 16 the day after the start
    ("2011-10-01", False, None),                  # 16th birthday on the first day
    ("2001-10-02", False, None),                  # the day before the 26th birthday
    ("2001-10-01", False, "la veille de ses 26 ans, le 30 septembre 2027"),  # 26th birthday on the first day
    ("1996-10-02", True, None),                   # the day before the 31st birthday, with a disability
    ("1996-10-02", False, "la veille de ses 26 ans"),
    ("1996-10-01", True, "la veille de ses 31 ans, le 30 septembre 2027"),
])
def test_age_on_the_first_day(birth_date, disability, expected):
    minor = {"guardian_name": "Paul Martin", "guardian_phone": "06 11 22 33 44"}
    found = problems(volunteer(birth_date=birth_date, disability=disability, **minor))
    if expected is None:
        assert "birth_date" not in found
    else:
        assert expected in found["birth_date"][0]
        assert "1er octobre 2027" in found["birth_date"][0]


def test_too_young_says_from_when_the_mission_may_start():
    (message,) = problems(volunteer(birth_date="2011-10-02"))["birth_date"]
    assert "15 ans" in message and "au plus tôt le 2 octobre 2027" in message


@pytest.mark.parametrize("end_date, expected", [
    ("2028-03-30", "au moins 6 mois"),   # one day short of six months
    ("2028-03-31", None),                # six months
    ("2028-09-30", None),                # twelve months
    ("2028-10-01", "au plus 12 mois"),   # a day more
    ("2027-10-01", "postérieure à son début"),
    ("2027-09-15", "postérieure à son début"),
])
def test_mission_length(end_date, expected):
    found = problems(volunteer(end_date=end_date))
    if expected is None:
        assert "end_date" not in found
    else:
        assert expected in found["end_date"][0]


def test_length_message_gives_the_allowed_end():
    (message,) = problems(volunteer(end_date="2028-03-30"))["end_date"]
    assert "elle finit au plus tôt le 31 mars 2028" in message


def test_months_are_counted_in_calendar_months():
    assert mission_end_bounds(date(2028, 1, 31)) == (date(2028, 7, 30), date(2029, 1, 30))
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)


@pytest.mark.parametrize("hours, expected", [(23, "entre 24 et 48 heures"), (24, None), (48, None),
                                             (49, "entre 24 et 48 heures")])
def test_weekly_hours_of_an_adult(hours, expected):
    found = problems(volunteer(weekly_hours=hours))
    if expected is None:
        assert "weekly_hours" not in found
    else:
        assert expected in found["weekly_hours"][0] and f"({hours} heures indiquées)" in found["weekly_hours"][0]


@pytest.mark.parametrize("hours, refused", [(35, False), (36, True)])
def test_weekly_hours_of_a_minor(hours, refused):
    minor = volunteer(birth_date="2010-06-01", weekly_hours=hours, **GUARDIAN)
    found = problems(minor)
    assert ("weekly_hours" in found) is refused
    if refused:
        assert "volontaire mineur (17 ans" in found["weekly_hours"][0] and "entre 24 et 35 heures" in found["weekly_hours"][0]


@pytest.mark.parametrize("start_date, end_date, refused", [
    ("2027-08-31", "2028-04-30", True),   # the day before the campaign's earliest start
    ("2027-09-01", "2028-04-30", False),
    ("2028-01-31", "2028-07-30", False),  # the latest start
    ("2028-02-01", "2028-07-31", True),
])
def test_start_within_the_campaign(start_date, end_date, refused):
    found = problems(volunteer(start_date=start_date, end_date=end_date))
    assert ("start_date" in found) is refused
    if refused:
        assert found["start_date"] == ["Dans la campagne 2027-2028, les missions commencent entre le "
                                       "1er septembre 2027 et le 31 janvier 2028."]


def test_no_campaign_record_means_no_window_rule():
    assert "start_date" not in problems(volunteer(start_date="2027-08-01", end_date="2028-03-31"), campaign=None)


def test_a_second_running_contract_is_refused_on_the_name():
    running = [{"instance_id": 7, "start_date": "2027-09-01", "end_date": "2028-04-30", "school": "Lycée Sainte-Anne",
                "campaign": "2027-2028", "ended": False}]
    found = problems(volunteer(), running=running)
    assert found == {"last_name": ["Léa Martin a déjà signé un engagement de Service Civique (Lycée Sainte-Anne, du "
                                   "1er septembre 2027 au 30 avril 2028, en cours) : on ne peut accomplir qu'un seul "
                                   "Service Civique dans sa vie, même interrompu."]}


def test_the_place_is_given_so_that_a_contract_redrawn_for_it_is_not_a_second_one():
    ctx = context()
    eligibility_problems(volunteer(), ctx, establishment_id=1, place=2)
    assert ctx.contracts.asked == [("Léa", "Martin", "2005-03-12", 2)]


@pytest.mark.parametrize("changes, field, expected", [
    ({"tutor": None}, "tutor", "Choisissez le tuteur"),
    ({"tutor": "referent.brest"}, "tutor", "n'est pas tuteur de l'établissement"),
    ({"tutor": "julien.lemoine"}, "tutor", "Julien Lemoine ne peut pas encore être tuteur : aucune connexion à la plateforme"),
    ({"tutor": "sans.telephone"}, "tutor", "numéro de téléphone manquant"),
    ({"cotutor": "tuteur.rennes"}, "cotutor", "une autre personne que le tuteur"),
    ({"cotutor": "julien.lemoine"}, "cotutor", "ne peut pas encore être cotuteur"),
])
def test_tutor_is_present_with_email_and_phone(changes, field, expected):
    found = problems(volunteer(**changes))
    assert list(found) == [field] and expected in found[field][0]


def test_a_tutor_without_phone_in_the_directory_is_refused_even_if_marked_eligible():
    tutors = [{**TUTORS[0], "phone": None}]
    found = problems(volunteer(cotutor=None), tutors=tutors)
    assert "Thomas Riou ne peut pas encore être tuteur" in found["tutor"][0]


def test_nationality_outside_the_rules_is_refused():
    found = problems(volunteer(nationality_status="other"))
    assert list(found) == ["nationality_status"] and "ne peut pas être engagé" in found["nationality_status"][0]


def test_a_minor_needs_a_legal_representative_with_identity_address_and_phone():
    found = problems(volunteer(birth_date="2010-06-01"))
    assert set(found) == {"guardian_name", "guardian_address", "guardian_postal_code", "guardian_city",
                          "guardian_phone"}
    assert found["guardian_address"] == ["Le volontaire sera mineur au début de la mission : indiquez l'adresse de son "
                                         "représentant légal, qui signe aussi le contrat."]
    assert problems(volunteer(birth_date="2010-06-01", **GUARDIAN)) == {}


def test_the_legal_representative_is_asked_up_to_the_day_before_the_18th_birthday():
    # The mission starts on 1 October 2027: 18 that day is an adult, 18 the next day is a minor.
    assert problems(volunteer(birth_date="2009-10-01")) == {}
    assert "guardian_address" in problems(volunteer(birth_date="2009-10-02"))


def test_the_volunteer_declares_never_having_served():
    for declared in (False, None):
        found = problems(volunteer(never_served=declared))
        assert list(found) == ["never_served"]
        assert "ne peut être accompli qu'une fois, même interrompu" in found["never_served"][0]
    assert problems(volunteer(never_served=True)) == {}


def test_social_criteria_need_their_proof():
    assert list(problems(volunteer(social_criteria="rsa"))) == ["social_criteria_proof"]
    assert problems(volunteer(social_criteria="rsa", social_criteria_proof={"document_id": 3})) == {}


def test_several_rules_broken_give_one_message_each_on_its_field():
    found = problems(volunteer(birth_date="1990-01-01", end_date="2027-12-31", weekly_hours=20, tutor=None))
    assert set(found) == {"birth_date", "end_date", "weekly_hours", "tutor"}
    assert all(len(messages) == 1 for messages in found.values())


def test_help_texts_of_the_form_quote_the_rule_table():
    ui = json.loads((Path(__file__).parent.parent / "forms" / "volunteer_file.uischema.json").read_text("utf-8"))
    numbers = {int(n) for field in ("birth_date", "end_date", "weekly_hours")
               for n in re.findall(r"\d+", ui[field]["ui:help"])}
    rules = {ELIGIBILITY[key] for key in ("min_age", "max_age", "max_age_with_disability", "min_duration_months",
                                          "max_duration_months", "min_weekly_hours", "max_weekly_hours",
                                          "max_weekly_hours_minor")}
    assert rules <= numbers, "forms/volunteer_file.uischema.json ne suit plus handlers/rules.py"


def test_tutor_choices_come_from_the_directory_rules_and_an_empty_list_stays_a_list():
    from engine.form_checks import validate
    from engine.forms import Form
    from handlers.volunteer import school_tutors

    offered = school_tutors(context(), {"establishment_id": 1})
    assert offered == [{"value": "tuteur.rennes", "label": "Thomas Riou (tuteur)"},
                       {"value": "cotuteur.rennes", "label": "Claire Morvan (cotuteur)"}]
    form = Form({"type": "object", "required": ["tutor"], "properties": {
        "tutor": {"title": "Tuteur", "type": "string", "x-options-from": "school_tutors"}}})
    (field,) = form.with_choices({"tutor": offered}).fields()
    assert (field.kind, [value for value, _label in field.options]) == ("select", ["tuteur.rennes", "cotuteur.rennes"])
    assert validate(form.with_choices({"tutor": offered}), {"tutor": "julien.lemoine"}) == {
        "tutor": ["Choisissez une des valeurs proposées."]}
    nobody = form.with_choices({"tutor": []})
    (field,) = nobody.fields()
    assert (field.kind, field.options) == ("select", [])
    assert validate(nobody, {"tutor": "tuteur.rennes"}) == {"tutor": ["Choisissez une des valeurs proposées."]}


def test_a_form_with_choices_or_bounds_leaves_the_deployed_form_as_it_was():
    import copy

    from engine.forms import Form

    schema = {"type": "object", "properties": {
        "tutor": {"title": "Tuteur", "type": "string", "x-options-from": "school_tutors", "enum": ["ancien"]},
        "hours": {"title": "Heures", "type": "integer"}, "note": {"type": "string"}}}
    deployed = Form(schema)
    before = copy.deepcopy(schema)
    chosen = deployed.with_choices({"tutor": [{"value": "tuteur.rennes", "label": "Thomas Riou"}]})
    bounded = chosen.with_bounds({"hours": {"minimum": 24, "maximum": 35}, "absent": {"minimum": 1}})
    assert deployed.schema == before
    assert chosen.properties["tutor"]["oneOf"] == [{"const": "tuteur.rennes", "title": "Thomas Riou"}]
    assert "enum" not in chosen.properties["tutor"] and "minimum" not in chosen.properties["hours"]
    assert bounded.properties["hours"] == {"title": "Heures", "type": "integer", "minimum": 24, "maximum": 35}
    assert bounded.properties["tutor"] == chosen.properties["tutor"] and "absent" not in bounded.properties
