"""Form data from the browser turned into typed data, and validated with French messages."""
from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from engine.form_checks import validate
from engine.forms import Form, data_from_web_form

SCHEMA = {
    "type": "object",
    "required": ["decision", "hours", "start"],
    "additionalProperties": False,
    "properties": {
        "decision": {"title": "Décision", "type": "string",
                     "oneOf": [{"const": "accept", "title": "Accepter"}, {"const": "refuse", "title": "Refuser"}]},
        "comment": {"title": "Commentaire", "type": "string", "maxLength": 10},
        "hours": {"title": "Heures", "type": "integer", "minimum": 24, "maximum": 48},
        "amount": {"title": "Montant", "type": "number", "minimum": 0},
        "start": {"title": "Début", "type": "string", "format": "date"},
        "email": {"title": "Courriel", "type": "string", "format": "email"},
        "minor": {"title": "Mineur", "type": "boolean"},
        "agree": {"title": "Accord", "type": "boolean",
                  "oneOf": [{"const": True, "title": "Oui"}, {"const": False, "title": "Non"}]},
        "days": {"title": "Jours", "type": "array", "uniqueItems": True,
                 "items": {"type": "string", "enum": ["lundi", "mardi"]}},
    },
    "allOf": [{"if": {"properties": {"decision": {"const": "refuse"}}, "required": ["decision"]},
               "then": {"required": ["comment"]}}],
}
FORM = Form(SCHEMA, {"ui:order": ["decision", "comment"]})


def test_browser_strings_become_typed_data():
    submitted = MultiDict([("decision", "accept"), ("hours", " 30 "), ("amount", "114,85"), ("start", "2027-09-01"),
                           ("minor", "true"), ("agree", "false"), ("days", "lundi"), ("days", "mardi"),
                           ("comment", "   ")])
    data = data_from_web_form(FORM, submitted)
    assert data == {"decision": "accept", "hours": 30, "amount": 114.85, "start": "2027-09-01", "minor": True,
                    "agree": False, "days": ["lundi", "mardi"]}
    assert validate(FORM, data) == {}


def test_an_unticked_checkbox_is_false_and_bad_numbers_are_kept_for_the_message():
    data = data_from_web_form(FORM, MultiDict([("hours", "trente")]))
    assert data["minor"] is False and data["hours"] == "trente"
    assert validate(FORM, data)["hours"] == ["Valeur attendue : un nombre entier."]


@pytest.mark.parametrize("data, field, message", [
    ({"hours": 30, "start": "2027-09-01"}, "decision", "Ce champ est obligatoire."),
    ({"decision": "maybe", "hours": 30, "start": "2027-09-01"}, "decision", "Choisissez une des valeurs proposées."),
    ({"decision": "accept", "hours": 60, "start": "2027-09-01"}, "hours", "La valeur doit être inférieure ou égale à 48."),
    ({"decision": "accept", "hours": 10, "start": "2027-09-01"}, "hours", "La valeur doit être supérieure ou égale à 24."),
    ({"decision": "accept", "hours": 30, "start": "2027-02-31"}, "start",
     "Date invalide : indiquez une date au format JJ/MM/AAAA."),
    ({"decision": "accept", "hours": 30, "start": "2027-09-01", "email": "nobody"}, "email",
     "Adresse électronique invalide (exemple : prenom.nom@exemple.fr)."),
    ({"decision": "refuse", "hours": 30, "start": "2027-09-01"}, "comment", "Ce champ est obligatoire."),
    ({"decision": "accept", "hours": 30, "start": "2027-09-01", "comment": "x" * 11}, "comment",
     "Saisissez au plus 10 caractères."),
    ({"decision": "accept", "hours": 30, "start": "2027-09-01", "extra": 1}, "__form__", "Champ inconnu : extra."),
])
def test_errors_are_in_french_on_the_right_field(data, field, message):
    assert message in validate(FORM, data)[field]


def test_fields_follow_the_ui_order_and_pick_widgets():
    fields = FORM.fields()
    assert [f.name for f in fields][:2] == ["decision", "comment"]
    kinds = {f.name: f.kind for f in fields}
    assert kinds == {"decision": "select", "comment": "input", "hours": "input", "amount": "input", "start": "input",
                     "email": "input", "minor": "checkbox", "agree": "radio", "days": "checkboxes"}
    assert {f.name: f.input_type for f in fields}["start"] == "date"


def test_submitted_values_read_with_their_labels():
    assert FORM.label_of("decision", "refuse") == "Refuser"
    assert FORM.label_of("agree", False) == "Non"
    assert FORM.label_of("hours", 1) == "1"
    assert FORM.label_of("start", "2027-09-01") == "1er septembre 2027"


@pytest.mark.parametrize("address", ["nom@", "@exemple.fr", "nom@exemple", "nom @exemple.fr", "nom@exemple.",
                                     "nom@@exemple.fr"])
def test_an_email_needs_a_local_part_and_a_dotted_domain(address):
    errors = validate(FORM, {"decision": "accept", "hours": 30, "start": "2027-09-01", "email": address})
    assert errors == {"email": ["Adresse électronique invalide (exemple : prenom.nom@exemple.fr)."]}


def test_a_plain_email_passes():
    assert validate(FORM, {"decision": "accept", "hours": 30, "start": "2027-09-01",
                           "email": "prenom.nom@ecole.exemple.fr"}) == {}


FACTS = Form({"type": "object", "properties": {
    "held_on": {"title": "Date de l'entretien", "type": "string", "format": "date", "x-not-after-today": True},
    "planned": {"title": "Date prévue", "type": "string", "format": "date"},
}})


def test_a_fact_date_cannot_be_after_today_while_a_plan_can():
    today = date(2027, 3, 1)
    assert validate(FACTS, {"held_on": "2027-03-01", "planned": "2030-01-01"}, today) == {}
    errors = validate(FACTS, {"held_on": "2027-03-02"}, today)
    assert list(errors) == ["held_on"] and "postérieure à aujourd'hui" in errors["held_on"][0]
    assert FACTS.fields()[0].not_after_today and not FACTS.fields()[1].not_after_today


DECIDING = Form({"type": "object", "properties": {
    "agree": {"title": "Accord", "type": "boolean",
              "oneOf": [{"const": True, "title": "Oui"}, {"const": False, "title": "Non"}]}}},
    {"agree": {"ui:submitLabel": {"true": "Valider le candidat", "false": "Refuser le candidat"}}})


def test_the_submit_button_names_the_decision_chosen():
    assert DECIDING.submit_label({"agree": False}) == "Refuser le candidat"
    assert DECIDING.submit_label({"agree": True}) == "Valider le candidat"
    assert DECIDING.submit_label({}) == "Valider et transmettre"
    assert FORM.submit_label({"decision": "refuse"}) == "Valider et transmettre"


def test_only_a_form_that_says_so_starts_again_from_its_previous_answers():
    assert Form({"type": "object"}, {"ui:keepPreviousAnswers": True}).keeps_previous_answers
    assert not FORM.keeps_previous_answers


@pytest.mark.parametrize("typed", ["nan", "NaN", "inf", "-Infinity", "1e999"])
def test_a_number_that_is_not_finite_is_refused_as_not_a_number(typed):
    data = data_from_web_form(FORM, MultiDict([("decision", "accept"), ("hours", "30"), ("start", "2027-09-01"),
                                               ("amount", typed)]))
    assert data["amount"] == typed
    assert validate(FORM, data) == {"amount": ["Valeur attendue : un nombre."]}
