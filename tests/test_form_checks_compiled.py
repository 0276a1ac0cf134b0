"""The compiled check of submissions (jsonschema-rs) finds valid exactly what jsonschema finds valid.

Every form of the campaign, with its sample answers and variants of them that break one field at a time, is
checked both ways; the compiled answer may only say « valid » when jsonschema finds no error.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from engine import form_checks
from engine.form_checks import validate
from engine.forms import Form
from tests.conftest import SAMPLES

FORMS = Path(__file__).resolve().parents[1] / "forms"
TODAY = date(2027, 3, 1)


def _form(spec_id: str) -> Form:
    schema = json.loads((FORMS / f"{spec_id}.schema.json").read_text(encoding="utf-8"))
    return Form(schema, {})


def _sample_data(form: Form, spec_id: str) -> dict:
    data = dict(SAMPLES[spec_id])
    for number, name in enumerate(form.file_fields(), start=1):
        # A file field holds, once received, the reference of the stored document.
        data[name] = {"document_id": number, "filename": f"{name}.pdf", "content_type": "application/pdf",
                      "size": 1200, "version": None}
    return data


def _variants(form: Form, data: dict) -> list[dict]:
    """The sample, then the sample with one field broken in each way its schema can refuse."""
    variants = [data, {**data, "champ_inconnu": 1}]
    for name in form.schema.get("required", []):
        variants.append({key: value for key, value in data.items() if key != name})
    for name, prop in form.properties.items():
        kind = prop.get("type")
        variants.append({**data, name: [1, 2] if kind != "array" else "texte"})
        if kind == "string":
            variants += [{**data, name: ""}, {**data, name: "x" * (prop.get("maxLength", 5000) + 1)},
                         {**data, name: "2027-02-31"}, {**data, name: "pas une adresse"}, {**data, name: "nom@exemple"},
                         {**data, name: "2030-12-31"}, {**data, name: "!!"}]
        if kind in ("integer", "number"):
            variants += [{**data, name: -1}, {**data, name: 10**6}, {**data, name: 1.5}, {**data, name: True}]
        if kind == "boolean":
            variants.append({**data, name: 0})
    return variants


def _jsonschema_errors(schema: dict, data: dict) -> list:
    return list(form_checks._validator_class(TODAY)(schema, format_checker=form_checks._FORMAT_CHECKER)
                .iter_errors(data))


def _compiled_answer(schema: dict, data: dict) -> bool:
    # A schema is compiled the second time it is seen.
    form_checks._compiled_validator(schema, TODAY)
    return form_checks._proven_valid(schema, data, TODAY)


@pytest.mark.parametrize("spec_id", sorted(SAMPLES))
def test_the_compiled_check_agrees_with_jsonschema_on_every_form(spec_id):
    form = _form(spec_id)
    schema = form.validation_schema()
    sample = _sample_data(form, spec_id)
    assert _jsonschema_errors(schema, sample) == [], "the sample answers are valid"
    assert _compiled_answer(schema, sample), "valid answers are proven valid without jsonschema"
    refused = 0
    for data in _variants(form, sample):
        errors = _jsonschema_errors(schema, data)
        assert _compiled_answer(schema, data) == (not errors), (data, [error.message for error in errors])
        refused += bool(errors)
    assert refused > 1


def test_a_refusal_still_comes_with_jsonschema_s_french_messages():
    form = _form("review_project")
    data = _sample_data(form, "review_project")
    validate(form, data, TODAY)
    assert validate(form, data, TODAY) == {}
    errors = validate(form, {**data, "places_granted": "deux"}, TODAY)
    assert errors == {"places_granted": ["Valeur attendue : un nombre entier."]}


FACTS = {"type": "object", "additionalProperties": False, "properties": {
    "held_on": {"type": "string", "format": "date", "x-not-after-today": True},
    "start": {"type": "string", "format": "date", "x-earliest": "2027-09-01", "x-latest": "2027-12-31"},
}}


@pytest.mark.parametrize("data, valid", [
    ({"held_on": "2027-03-01", "start": "2027-09-01"}, True),
    ({"held_on": "2027-03-02"}, False),
    ({"start": "2027-08-31"}, False),
    ({"start": "2028-01-01"}, False),
    ({"held_on": "pas une date"}, False),
])
def test_the_platform_s_date_keywords_are_checked_by_the_compiled_check(data, valid):
    assert _compiled_answer(FACTS, data) is valid
    assert (validate(Form(FACTS), data, TODAY) == {}) is valid


def test_a_value_json_cannot_hold_goes_to_jsonschema():
    schema = {"type": "object", "properties": {"on": {"type": "string"}}}
    assert not _compiled_answer(schema, {"on": date(2027, 3, 1)})
    assert validate(Form(schema), {"on": date(2027, 3, 1)}, TODAY) == {"on": ["Valeur attendue : un texte."]}


def test_a_form_is_checked_as_draft_2020_12_whatever_its_schema_says():
    # Draft 7 ignores a keyword beside « $ref »; Draft 2020-12, which the platform's forms follow, applies it.
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
              "$defs": {"text": {"type": "string"}},
              "properties": {"name": {"$ref": "#/$defs/text", "maxLength": 3}}}
    assert _compiled_answer(schema, {"name": "abc"})
    assert not _compiled_answer(schema, {"name": "abcd"})
    assert validate(Form(schema), {"name": "abcd"}, TODAY) == {"name": ["Saisissez au plus 3 caractères."]}


def test_a_schema_is_compiled_the_second_time_it_is_seen():
    schema = {"type": "object", "properties": {"seen": {"type": "integer", "minimum": 424242}}}
    assert not form_checks._proven_valid(schema, {"seen": 424243}, TODAY)
    assert form_checks._proven_valid(schema, {"seen": 424243}, TODAY)
    assert not form_checks._proven_valid(schema, {"seen": 1}, TODAY)


def test_the_oldest_compiled_checks_go_first_past_the_limit(monkeypatch):
    monkeypatch.setattr(form_checks, "_COMPILED", {})
    monkeypatch.setattr(form_checks, "_COMPILED_LIMIT", 2)
    schemas = [{"type": "object", "properties": {f"field{n}": {"type": "integer"}}} for n in range(3)]
    for schema in schemas:
        form_checks._compiled_validator(schema, TODAY, at_once=True)
    assert len(form_checks._COMPILED) == 2
    assert form_checks._compiled_validator(schemas[2], TODAY) is not form_checks._NOT_COMPILED
    # The first one was let go: seen again, it is new.
    assert form_checks._compiled_validator(schemas[0], TODAY) is form_checks._NOT_COMPILED
