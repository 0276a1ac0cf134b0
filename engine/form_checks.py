"""Submitted form data checked against the form's JSON Schema, with French messages keyed by field.

Besides Draft 2020-12, the checks know the platform's keywords (`engine.forms`): fact dates not after today, date
bounds filled when the form is served, and a rule's own wording for a refused limit.
"""
from __future__ import annotations

import functools
import re
from datetime import date

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


def _date_bound(keyword: str):
    def check(validator, bound, instance, schema):
        try:
            given, limit = date.fromisoformat(instance), date.fromisoformat(bound)
        except (TypeError, ValueError):
            return  # the format check reports a malformed date
        if (given < limit) if keyword == EARLIEST else (given > limit):
            wording = "au plus tôt" if keyword == EARLIEST else "au plus tard"
            yield ValidationError(f"Cette date doit être {wording} le {date_fr(limit)}.", validator=keyword,
                                  validator_value=bound)
    return check


def _not_after_today(today: date):
    def check(validator, wanted, instance, schema):
        if not wanted or not isinstance(instance, str):
            return
        try:
            given = date.fromisoformat(instance)
        except ValueError:
            return  # the format check reports it
        if given > today:
            yield ValidationError(_FUTURE_DATE, validator=NOT_AFTER_TODAY, validator_value=wanted)
    return check


def validate(form: Form, data: dict, today: date | None = None) -> dict[str, list[str]]:
    """Validate data against the form's schema; return French messages keyed by field name.

    `today` is the date fact dates are compared with (`x-not-after-today`); the system's date by default.
    """
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        # PostgreSQL stores no NUL character; refusing it here keeps such input from failing the save.
        if any("\x00" in text for text in _texts(name, value)):
            errors.setdefault(name, []).append("Ce texte contient un caractère non autorisé.")
    validator = _validator_class(today or date.today())(form.validation_schema(), format_checker=_FORMAT_CHECKER)
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
