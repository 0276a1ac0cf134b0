"""User tasks have a form, and every form is a JSON Schema the platform can render and check."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TypedDict

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

import handlers
from engine.forms import CHOICES_KEYWORD
from engine.validation.model import Definitions, Node
from engine.validation.problems import WARNING, Problem

_TYPES = {"string": "un texte", "integer": "un nombre entier", "number": "un nombre", "boolean": "vrai ou faux",
          "array": "une liste", "object": "un objet", "null": "null"}
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)


class _Where(TypedDict, total=False):
    """The element a problem concerns, when one is known."""

    element_id: str | None
    element_name: str | None


def form_name(task: Node, key: str = "formJsonSchemaFilename", suffix: str = "schema.json") -> tuple[str, bool]:
    """File name of a user task's form (or UI hints) under forms/, and whether the task declares it."""
    declared = task.properties().get(key)
    return (declared, True) if declared else (f"{task.id}.{suffix}", False)


def check_user_task_forms(definitions: Definitions) -> Iterator[Problem]:
    """Every user task names a form that exists; the UI hints it names exist too."""
    for task in definitions.nodes("userTask"):
        name, declared = form_name(task)
        if f"forms/{name}" not in definitions.texts:
            if declared:
                message = (f"le formulaire « forms/{name} » déclaré par la propriété formJsonSchemaFilename "
                           "n'existe pas : ajoutez ce fichier ou corrigez son nom.")
            else:
                message = ("la tâche utilisateur n'a pas de formulaire : ajoutez la propriété formJsonSchemaFilename "
                           f"et le fichier « forms/{name} ».")
            yield Problem("form.missing", task.file, message, task.id, task.name, task.line)
        ui_name, ui_declared = form_name(task, "formUiSchemaFilename", "uischema.json")
        if ui_declared and f"forms/{ui_name}" not in definitions.texts:
            yield Problem("form.missing", task.file,
                          f"le fichier d'affichage « forms/{ui_name} » déclaré par la propriété formUiSchemaFilename "
                          "n'existe pas.", task.id, task.name, task.line)


def check_form_schemas(definitions: Definitions) -> Iterator[Problem]:
    """Each `*.schema.json` is a valid JSON Schema (Draft 2020-12) describing an object with titled fields."""
    users = _tasks_by_form(definitions)
    for name, schema in definitions.forms.items():
        if name.endswith(".uischema.json") and not isinstance(schema, dict):
            yield Problem("form.schema", name, "les indications d'affichage doivent être un objet JSON.")
        if not name.endswith(".schema.json"):
            continue
        task = users.get(name)
        where: _Where = {"element_id": task.id, "element_name": task.name} if task else {}
        error = best_match(_META.iter_errors(schema))
        if error is not None:
            yield Problem("form.schema", name, f"le formulaire n'est pas un JSON Schema valide : {_said(error)}.",
                          **where)
            continue
        if not isinstance(schema, dict) or schema.get("type") != "object" or not isinstance(
                schema.get("properties"), dict):
            yield Problem("form.schema", name, "le formulaire doit décrire un objet : "
                                               "« \"type\": \"object\" » et des champs sous « properties ».", **where)
            continue
        for field, spec in schema["properties"].items():
            if not isinstance(spec, dict):
                continue
            source = spec.get(CHOICES_KEYWORD) or (spec.get("items") or {}).get(CHOICES_KEYWORD)
            if source and source not in handlers.CHOICES:
                yield Problem("form.choices", name,
                              f"le champ « {field} » prend ses choix de « {source} », que la plateforme ne connaît pas "
                              f"(connus : {', '.join(sorted(handlers.CHOICES)) or 'aucun'}).", **where)
            if not spec.get("title"):
                yield Problem("form.title", name, f"le champ « {field} » n'a pas de titre : la page afficherait son "
                                                  "identifiant technique.", severity=WARNING, **where)


def _tasks_by_form(definitions: Definitions) -> dict[str, Node]:
    found: dict[str, Node] = {}
    for task in definitions.nodes("userTask"):
        found.setdefault(f"forms/{form_name(task)[0]}", task)
    return found


def _said(error) -> str:
    """A JSON Schema meta-schema error in French: where in the file, and what is wrong."""
    path = " › ".join(str(part) for part in error.absolute_path) or "la racine"
    value = json.dumps(error.instance, ensure_ascii=False)
    value = value if len(value) <= 60 else value[:57] + "…"
    if error.validator in ("anyOf", "oneOf", "enum", "const"):
        return f"à « {path} », la valeur {value} n'est pas permise"
    if error.validator == "type":
        expected: list[str] = (error.validator_value if isinstance(error.validator_value, list)
                               else [error.validator_value])
        return f"à « {path} », la valeur {value} devrait être {' ou '.join(_TYPES.get(t, t) for t in expected)}"
    if error.validator in ("minimum", "exclusiveMinimum", "maximum", "minLength", "minItems"):
        return f"à « {path} », la valeur {value} est hors des limites permises"
    if error.validator == "uniqueItems":
        return f"à « {path} », la liste contient des doublons"
    if error.validator == "format":
        return f"à « {path} », la valeur {value} n'a pas la forme attendue"
    return f"à « {path} », la valeur {value} ne respecte pas la règle « {error.validator} »"
