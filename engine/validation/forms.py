"""User tasks have a form, and every form is a JSON Schema the platform can render and check."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TypedDict

from jinja2 import TemplateSyntaxError
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

import handlers
from engine.forms import CHOICES_KEYWORD, CONTEXT_KEY, NOT_AFTER_TODAY, ROUNDS, choices
from engine.validation.model import Definitions, Node
from engine.validation.problems import WARNING, Problem
from engine.views.instructions import template_syntax

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


def check_form_hints(definitions: Definitions) -> Iterator[Problem]:
    """The task context, submit labels and fact dates a form declares refer to what exists and can be rendered."""
    tasks = {task.id: task for task in definitions.nodes("userTask")}
    users = _tasks_by_form(definitions)
    for name, ui in definitions.forms.items():
        if not name.endswith(".uischema.json") or not isinstance(ui, dict):
            continue
        schema = definitions.forms.get(name.replace(".uischema.json", ".schema.json"))
        properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
        task = users.get(name.replace(".uischema.json", ".schema.json"))
        where: _Where = {"element_id": task.id, "element_name": task.name} if task else {}
        for message in [*_context_problems(ui.get(CONTEXT_KEY), tasks, definitions),
                        *_submit_label_problems(ui, properties)]:
            yield Problem("form.hints", name, message, **where)
    for name, schema in definitions.forms.items():
        if not name.endswith(".schema.json") or not isinstance(schema, dict):
            continue
        for field, spec in (schema.get("properties") or {}).items():
            if isinstance(spec, dict) and spec.get(NOT_AFTER_TODAY) and spec.get("format") != "date":
                yield Problem("form.hints", name, f"le champ « {field} » porte « {NOT_AFTER_TODAY} », qui ne vaut "
                                                  "que pour une date (« \"format\": \"date\" »).")


def _context_problems(declared, tasks: dict[str, Node], definitions: Definitions) -> Iterator[str]:
    if declared is None:
        return
    if not isinstance(declared, list):
        yield f"« {CONTEXT_KEY} » doit être une liste de sections."
        return
    for number, section in enumerate(declared, start=1):
        label = f"la section n° {number} de « {CONTEXT_KEY} »"
        if not isinstance(section, dict) or not isinstance(section.get("title"), str) or not section["title"].strip():
            yield f"{label} doit être un objet avec un titre (« title »)."
            continue
        label = f"la section « {section['title']} » de « {CONTEXT_KEY} »"
        if ("task" in section) == ("facts" in section):
            yield f"{label} doit nommer soit une tâche (« task »), soit des lignes calculées (« facts »)."
        elif "facts" in section:
            yield from _facts_problems(label, section["facts"])
        else:
            yield from _earlier_task_problems(label, section, tasks, definitions)


def _earlier_task_problems(label: str, section: dict, tasks: dict[str, Node],
                           definitions: Definitions) -> Iterator[str]:
    task = tasks.get(str(section["task"]))
    if task is None:
        yield f"{label} nomme la tâche « {section['task']} », qui n'est pas une tâche utilisateur des processus."
        return
    if "rounds" in section and section["rounds"] not in ROUNDS:
        yield f"{label} : « rounds » vaut {' ou '.join(f'« {value} »' for value in ROUNDS)}."
    fields = section.get("fields")
    if fields is None:
        return
    form = definitions.forms.get(f"forms/{form_name(task)[0]}")
    known = form.get("properties", {}) if isinstance(form, dict) else {}
    if not isinstance(fields, list):
        yield f"{label} : « fields » doit être une liste de champs du formulaire de « {task.id} »."
        return
    unknown = [str(field) for field in fields if field not in known]
    if unknown:
        yield (f"{label} : le formulaire de « {task.id} » n'a pas de champ {', '.join(f'« {f} »' for f in unknown)} "
               f"(champs : {', '.join(known) or 'aucun'}).")


def _facts_problems(label: str, facts) -> Iterator[str]:
    if not isinstance(facts, list) or not facts:
        yield f"{label} : « facts » doit être une liste de lignes {{\"label\": …, \"value\": …}}."
        return
    for fact in facts:
        if not isinstance(fact, dict) or not isinstance(fact.get("label"), str) or not isinstance(
                fact.get("value"), str):
            yield f"{label} : chaque ligne de « facts » a un libellé (« label ») et une valeur (« value ») en texte."
            continue
        try:
            template_syntax(fact["value"])
        except TemplateSyntaxError as error:
            yield (f"{label} : la valeur de « {fact['label']} » n'est pas un gabarit valide "
                   f"(ligne {error.lineno} : {error.message}).")


def _submit_label_problems(ui: dict, properties: dict) -> Iterator[str]:
    for field, hints in ui.items():
        labels = hints.get("ui:submitLabel") if isinstance(hints, dict) else None
        if labels is None:
            continue
        spec = properties.get(field)
        if not isinstance(labels, dict) or spec is None:
            yield (f"« ui:submitLabel » du champ « {field} » doit associer chaque valeur du champ au libellé du "
                   "bouton d'envoi, et le champ doit exister.")
            continue
        offered = {str(value).lower() if isinstance(value, bool) else str(value)
                   for value, _label in choices(spec)}
        unknown = [value for value in labels if value not in offered]
        if unknown:
            yield (f"« ui:submitLabel » du champ « {field} » nomme {', '.join(f'« {v} »' for v in unknown)}, "
                   f"qui n'est pas une valeur du champ ({', '.join(sorted(offered)) or 'aucune'}).")
