"""Submitted form data checked against the form's JSON Schema, with French messages keyed by field.

Besides Draft 2020-12, the checks know the platform's keywords (`engine.forms`): fact dates not after today, date
bounds filled when the form is served, and a rule's own wording for a refused limit.

Most submissions are valid: a compiled validator (jsonschema-rs) checks them first, with the same formats and
keywords, about eight times faster on the campaign's forms. Only data it does not find valid go through
jsonschema, which says what is wrong field by field; whenever the two would disagree, jsonschema's answer is the
one given.
"""
from __future__ import annotations

import functools
import pickle
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from engine.forms import BOUND_MESSAGE, EARLIEST, FORM_LEVEL, LATEST, NOT_AFTER_TODAY, Form
from handlers.formats import date_fr, number_fr

_FORMAT_CHECKER = FormatChecker()
# jsonschema's own email check wants only an « @ »: `nom@` would pass. An address needs a local part, a domain
# with a dot, and no space.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


@_FORMAT_CHECKER.checks("email")
def _is_email(value: object) -> bool:
    return not isinstance(value, str) or _EMAIL.match(value) is not None


_BOUNDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", EARLIEST, LATEST})
_TYPE_NAMES = {
    "string": "un texte",
    "integer": "un nombre entier",
    "number": "un nombre",
    "boolean": "oui ou non",
    "array": "une liste",
    "object": "un objet",
}
_FORMAT_MESSAGES = {
    "date": "Date invalide : indiquez une date au format JJ/MM/AAAA.",
    "email": "Adresse électronique invalide (exemple : prenom.nom@exemple.fr).",
    "uri": "Adresse web invalide : elle doit commencer par https://.",
}
_FUTURE_DATE = "Cette date ne peut pas être postérieure à aujourd'hui : elle enregistre un fait accompli."


@functools.lru_cache(maxsize=4)
def _validator_class(today: date):
    """Draft 2020-12 with the date keywords, facts checked against `today` (one class per day, not per call)."""
    return validators.extend(Draft202012Validator, {NOT_AFTER_TODAY: _not_after_today(today),
                                                    EARLIEST: _date_bound(EARLIEST), LATEST: _date_bound(LATEST)})


def _bound_refusal(keyword: str, bound: Any, instance: Any) -> str | None:
    """What is wrong with a date outside its `x-earliest` or `x-latest` bound, or None."""
    try:
        given, limit = date.fromisoformat(instance), date.fromisoformat(bound)
    except (TypeError, ValueError):
        return None  # the format check reports a malformed date
    if (given < limit) if keyword == EARLIEST else (given > limit):
        wording = "au plus tôt" if keyword == EARLIEST else "au plus tard"
        return f"Cette date doit être {wording} le {date_fr(limit)}."
    return None


def _future_fact(today: date, wanted: Any, instance: Any) -> bool:
    """Whether a date that records a fact (`x-not-after-today`) is after `today`."""
    if not wanted or not isinstance(instance, str):
        return False
    try:
        return date.fromisoformat(instance) > today
    except ValueError:
        return False  # the format check reports it


def _date_bound(keyword: str):
    def check(validator, bound, instance, schema):
        refusal = _bound_refusal(keyword, bound, instance)
        if refusal is not None:
            yield ValidationError(refusal, validator=keyword, validator_value=bound)
    return check


def _not_after_today(today: date):
    def check(validator, wanted, instance, schema):
        if _future_fact(today, wanted, instance):
            yield ValidationError(_FUTURE_DATE, validator=NOT_AFTER_TODAY, validator_value=wanted)
    return check


def _compiled_keyword(refused: Callable[[Any, Any], bool]) -> type:
    """A jsonschema-rs keyword refusing the instances `refused(value, instance)` says are wrong."""
    class Keyword:
        def __init__(self, _parent_schema, value, _schema_path):
            self.value = value

        def validate(self, instance):
            if refused(self.value, instance):
                raise ValueError("refusé")
    return Keyword


@functools.lru_cache(maxsize=4)
def _compiled_keywords(today: date) -> dict[str, type]:
    """The platform's keywords for jsonschema-rs, facts checked against `today` (see `_validator_class`)."""
    return {
        NOT_AFTER_TODAY: _compiled_keyword(lambda wanted, instance: _future_fact(today, wanted, instance)),
        EARLIEST: _compiled_keyword(lambda bound, instance: _bound_refusal(EARLIEST, bound, instance) is not None),
        LATEST: _compiled_keyword(lambda bound, instance: _bound_refusal(LATEST, bound, instance) is not None),
    }


def _format_check(name: str) -> Callable[[str], bool]:
    return lambda value: _FORMAT_CHECKER.conforms(value, name)


# Every format jsonschema checks, checked the same way by jsonschema-rs: the same function decides.
_COMPILED_FORMATS = {name: _format_check(name) for name in _FORMAT_CHECKER.checkers}
# Compiled validators by day and schema (its pickled form: the same content, the same key). A schema is compiled the
# second time it is seen: a form served with choices of its own instance (tutors of its establishment) is checked
# once, and compiling it would cost more than jsonschema's check. The oldest entries go first.
_COMPILED: dict[tuple[date, bytes], Any] = {}
_COMPILED_LIMIT = 256
_SEEN_ONCE = object()
_NOT_COMPILED = object()


def compile_check(form: Form, today: date | None = None) -> bool:
    """Compile the check of a form as served without bounds or choices, before its first submission (a worker's
    warm-up); return whether jsonschema-rs took its schema."""
    return _compiled_validator(form.validation_schema(), today or date.today(), at_once=True) is not _NOT_COMPILED


def _compiled_validator(schema: dict, today: date, at_once: bool = False) -> Any:
    """The compiled validator of a schema for `today`; `_NOT_COMPILED` when the schema is new (unless `at_once`)
    or refused."""
    try:
        key = (today, pickle.dumps(schema, pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, TypeError, AttributeError):
        return _NOT_COMPILED
    validator = _COMPILED.get(key)
    if validator is None and len(_COMPILED) >= _COMPILED_LIMIT:
        oldest = next(iter(_COMPILED), None)
        if oldest is not None:
            _COMPILED.pop(oldest, None)  # another thread may have taken it first
    if validator is None and not at_once:
        _COMPILED[key] = _SEEN_ONCE
        return _NOT_COMPILED
    if validator is None or validator is _SEEN_ONCE:
        try:
            # Draft 2020-12 whatever `$schema` says, as jsonschema is used; no reference is ever fetched.
            validator = jsonschema_rs.Draft202012Validator(
                schema, formats=_COMPILED_FORMATS, validate_formats=True, keywords=_compiled_keywords(today),
                offline=True)
        except (jsonschema_rs.ValidationError, ValueError, TypeError):
            validator = _NOT_COMPILED
        _COMPILED[key] = validator
    return validator


def _proven_valid(schema: dict, data: dict, today: date) -> bool:
    """Whether the compiled validator finds the data valid; False when it cannot tell (jsonschema then decides)."""
    validator = _compiled_validator(schema, today)
    if validator is _NOT_COMPILED:
        return False
    try:
        return bool(validator.is_valid(data))
    except (ValueError, TypeError, OverflowError):
        return False  # a value JSON has no type for: jsonschema says what is wrong with it


def validate(form: Form, data: dict, today: date | None = None) -> dict[str, list[str]]:
    """Validate data against the form's schema; return French messages keyed by field name.

    `today` is the date fact dates are compared with (`x-not-after-today`); the system's date by default.
    """
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        # PostgreSQL stores no NUL character; refusing it here keeps such input from failing the save.
        if any("\x00" in text for text in _texts(name, value)):
            errors.setdefault(name, []).append("Ce texte contient un caractère non autorisé.")
    today = today or date.today()
    schema = form.validation_schema()
    if not errors and _proven_valid(schema, data, today):
        return errors
    validator = _validator_class(today)(schema, format_checker=_FORMAT_CHECKER)
    for error in validator.iter_errors(data):
        for name, message in _french(error, form):
            messages = errors.setdefault(name, [])
            if message not in messages:
                messages.append(message)
    return errors


def _texts(name, value):
    yield str(name)
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(key, item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts("", item)


def _french(error, form: Form) -> list[tuple[str, str]]:
    path = [p for p in error.absolute_path if isinstance(p, str)]
    name = path[0] if path else FORM_LEVEL
    kind, expected = error.validator, error.validator_value
    if kind in _BOUNDS and isinstance(error.schema.get(BOUND_MESSAGE), str):
        return [(name, error.schema[BOUND_MESSAGE])]
    if kind == "required":
        missing = [p for p in expected if isinstance(error.instance, dict) and p not in error.instance]
        return [(p, "Ce champ est obligatoire.") for p in missing]
    if kind == "additionalProperties":
        extra = sorted(set(error.instance) - set(form.properties))
        return [(FORM_LEVEL, "Champ inconnu : " + ", ".join(extra) + ".")]
    if kind == "type":
        return [(name, f"Valeur attendue : {_TYPE_NAMES.get(expected, expected)}.")]
    if kind == "format":
        return [(name, _FORMAT_MESSAGES.get(expected, "Format invalide."))]
    if kind in (NOT_AFTER_TODAY, EARLIEST, LATEST):
        return [(name, error.message)]
    if kind == "pattern":
        hint = form.ui.get(name, {}).get("ui:patternMessage")
        return [(name, hint or "Le format de cette valeur n'est pas valide.")]
    if kind == "minLength":
        return [(name, f"Saisissez au moins {expected} caractères.")]
    if kind == "maxLength":
        return [(name, f"Saisissez au plus {expected} caractères.")]
    if kind in ("minimum", "exclusiveMinimum"):
        return [(name, f"La valeur doit être supérieure {'ou égale ' if kind == 'minimum' else ''}à {number_fr(expected)}.")]
    if kind in ("maximum", "exclusiveMaximum"):
        return [(name, f"La valeur doit être inférieure {'ou égale ' if kind == 'maximum' else ''}à {number_fr(expected)}.")]
    if kind in ("enum", "const", "oneOf", "anyOf"):
        return [(name, "Choisissez une des valeurs proposées.")]
    if kind == "uniqueItems":
        return [(name, "Une même valeur est choisie plusieurs fois.")]
    if kind in ("minItems", "maxItems"):
        wording = "au moins" if kind == "minItems" else "au plus"
        return [(name, f"Choisissez {wording} {expected} valeur{'s' if expected > 1 else ''}.")]
    return [(name, "Valeur non valide.")]
