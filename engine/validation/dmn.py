"""Decision tables: called by an existing id, fed by variables produced upstream, complete and unambiguous.

Under the UNIQUE hit policy exactly one rule must apply to any input. The
check tries every combination of representative input values (each constant
the cells compare with, its neighbours, and values beyond): a combination no
rule matches is a gap, one that two rules match an overlap. Cells are judged
as SpiffWorkflow judges them: Python expressions, `-` for any value.
"""
from __future__ import annotations

import ast
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from engine.runtime.scripting import CampaignScriptEngine
from engine.validation.dataflow import DataFlow
from engine.validation.expressions import expression_problem, foreign_hint, loaded_names
from engine.validation.model import Definitions, dmn_children, dmn_text, text_of
from engine.validation.problems import WARNING, Problem
from handlers.formats import plural

_QUESTION = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")
_VALUE = "dmn_input_value"
# FEEL's ranges (`[1..10]`, `]0..5[`) and lists of values (`"FULL", "MINI"`) in input cells.
_RANGE = re.compile(r"^([\[\](])\s*([^.]+?)\s*\.\.\s*([^.]+?)\s*([\[\])])$")
_LIST = re.compile(r"^(\"[^\"]*\"|'[^']*'|[\w.-]+)(\s*,\s*(\"[^\"]*\"|'[^']*'|[\w.-]+))+$")
_MAX_POINTS = 5000
_OTHER = object()  # a string no cell names
_BOOLEAN_TYPES = ("boolean",)
_INTEGER_TYPES = ("integer", "long", "int")


def check_decision_calls(definitions: Definitions) -> Iterator[Problem]:
    """Business rule tasks call a deployed decision whose inputs read variables produced upstream."""
    flow = DataFlow(definitions)
    for task in definitions.nodes("businessRuleTask"):
        decision_id = text_of(task.spiff("spiffworkflow:calledDecisionId"))
        if not decision_id:
            yield Problem("dmn.call", task.file, "la tâche de règle métier n'appelle aucune table de décision "
                                                 "(spiffworkflow:calledDecisionId).", task.id, task.name, task.line)
            continue
        if decision_id not in definitions.decisions:
            known = ", ".join(sorted(definitions.decisions)) or "aucune"
            yield Problem("dmn.call", task.file, f"la table de décision « {decision_id} » n'existe pas ; tables "
                                                 f"connues : {known}.", task.id, task.name, task.line)
            continue
        available = flow.available(task)
        file, decision = definitions.decisions[decision_id]
        for table in dmn_children(decision, "decisionTable"):
            for column in dmn_children(table, "input"):
                expression = _input_expression(column)
                missing = sorted(loaded_names(expression or "") - available)
                if missing:
                    names = ", ".join(f"« {name} »" for name in missing)
                    yield Problem("dmn.input", task.file,
                                  f"l'entrée « {column.get('label') or column.get('id')} » de la table "
                                  f"« {decision_id} » ({file}) lit {names}, qu'aucune étape en amont ne produit.",
                                  task.id, task.name, task.line)


def check_decision_tables(definitions: Definitions) -> Iterator[Problem]:
    """Every cell compiles; a UNIQUE table has neither gaps nor overlaps."""
    for file, decision in definitions.decisions.values():
        for table in dmn_children(decision, "decisionTable"):
            problems = list(_compile_problems(file, table))
            yield from problems
            if not problems and (table.get("hitPolicy") or "UNIQUE").upper() == "UNIQUE":
                yield from _unique_problems(file, decision, table)


@dataclass
class _Column:
    id: str
    label: str
    expression: str
    type_ref: str
    line: int | None = None


def _input_expression(column) -> str | None:
    expressions = dmn_children(column, "inputExpression")
    return dmn_text(expressions[0]) if expressions else None


def _columns(table) -> list[_Column]:
    columns = []
    for column in dmn_children(table, "input"):
        expressions = dmn_children(column, "inputExpression")
        columns.append(_Column(column.get("id", ""), column.get("label") or column.get("id", ""),
                               _input_expression(column) or "", expressions[0].get("typeRef", "") if expressions else "",
                               column.sourceline))
    return columns


def _cells(rule, tag: str) -> list[str | None]:
    cells = []
    for entry in dmn_children(rule, tag):
        text = dmn_text(entry)
        cells.append(None if text in (None, "-") else text)
    return cells


def cell_expression(input_expression: str, cell: str) -> str:
    """The expression SpiffWorkflow evaluates for an input cell (see `DMNEngine.evaluate`)."""
    if _QUESTION.search(cell):
        return _QUESTION.sub(f"({input_expression})", cell)
    try:
        ast.parse(cell)
    except SyntaxError:
        return f"{input_expression} {cell}"
    return f"({input_expression}) == ({cell})"


def cell_hint(cell: str) -> str | None:
    """The Python to write for an input cell in FEEL (a range, a list of values), or None."""
    text = cell.strip()
    python = None
    if match := _RANGE.match(text):
        low = ">=" if match.group(1) == "[" else ">"
        high = "<=" if match.group(4) == "]" else "<"
        python = f"? {low} {match.group(2).strip()} and ? {high} {match.group(3).strip()}"
    elif _LIST.match(text):
        python = f"? in ({text})"
    if python is not None:
        return f"les cellules s'écrivent en Python, pas en FEEL : `{python}` (« ? » y tient lieu de la valeur de l'entrée)"
    return foreign_hint(text, "les cellules")


def _compile_problems(file: str, table) -> Iterator[Problem]:
    columns = _columns(table)
    for column in columns:
        problem = (expression_problem(column.expression, "les expressions des entrées") if column.expression
                   else "l'expression est vide")
        if problem:
            yield Problem("script.compile", file, f"l'expression de l'entrée ne se compile pas : {problem}.",
                          column.id, column.label, column.line)
    for rule in dmn_children(table, "rule"):
        name = _rule_name(rule)
        for column, cell in zip(columns, _cells(rule, "inputEntry"), strict=False):
            if cell is not None and column.expression and _LIST.match(cell.strip()):
                # Python reads `"a", "b"` as a tuple: the cell compiles, and never matches.
                yield Problem("dmn.feel", file, f"la cellule « {cell} » de l'entrée « {column.label} » est une liste "
                                                f"de valeurs en FEEL : en Python elle ne vaut jamais vrai ; "
                                                f"{cell_hint(cell)}.", rule.get("id"), name, rule.sourceline)
            elif cell is not None and column.expression:
                problem = expression_problem(cell_expression(column.expression, cell), None)
                if problem:
                    problem = f"{problem} ; {hint}" if (hint := cell_hint(cell)) else problem
                    yield Problem("script.compile", file, f"la cellule « {cell} » de l'entrée « {column.label} » "
                                                          f"ne se compile pas : {problem}.", rule.get("id"), name,
                                  rule.sourceline)
        for cell in _cells(rule, "outputEntry"):
            if cell is not None and (problem := expression_problem(cell, "les cellules de sortie")):
                yield Problem("script.compile", file, f"la sortie « {cell} » ne se compile pas : {problem}.",
                              rule.get("id"), name, rule.sourceline)


def _rule_name(rule) -> str | None:
    descriptions = dmn_children(rule, "description")
    return " ".join((descriptions[0].text or "").split()) or None if descriptions else None


def _unique_problems(file: str, decision, table) -> Iterator[Problem]:
    columns = _columns(table)
    rules = [(rule, _cells(rule, "inputEntry")) for rule in dmn_children(table, "rule")]
    where = {"element_id": decision.get("id"), "element_name": decision.get("name"), "line": decision.sourceline}
    if not rules:
        yield Problem("dmn.empty", file, "la table de décision n'a aucune règle.", **where)
        return
    candidates = [_candidates(column, [cells[i] if i < len(cells) else None for _rule, cells in rules])
                  for i, column in enumerate(columns)]
    size = 1
    for values in candidates:
        size *= len(values)
    if size > _MAX_POINTS:
        yield Problem("dmn.unchecked", file, "la table a trop de combinaisons d'entrées pour vérifier que ses règles "
                                             "ne se chevauchent pas et n'ont pas de trou.", severity=WARNING, **where)
        return
    environment = CampaignScriptEngine().environment
    gaps: list[tuple] = []
    # By pair of rule ids: the two rules and the first input where both apply.
    overlaps: dict[tuple[str | None, str | None], tuple[etree._Element, etree._Element, tuple]] = {}
    for point in itertools.product(*candidates):
        matching = [rule for rule, cells in rules if _matches(environment, columns, cells, point)]
        if not matching:
            gaps.append(point)
        for first, second in itertools.combinations(matching, 2):
            overlaps.setdefault((first.get("id"), second.get("id")), (first, second, point))
    for first, second, point in overlaps.values():
        yield Problem("dmn.overlap", file,
                      f"les règles « {first.get('id')} » et « {second.get('id')} » s'appliquent toutes deux quand "
                      f"{_describe(columns, point)} : avec la politique UNIQUE, une seule règle doit s'appliquer.",
                      second.get("id"), _rule_name(second), second.sourceline)
    if gaps:
        examples = " ; ".join(_describe(columns, point) for point in gaps[:3])
        more = f" (et {plural(len(gaps) - 3, 'autre cas', 'autres cas')})" if len(gaps) > 3 else ""
        yield Problem("dmn.gap", file, f"aucune règle ne s'applique quand {examples}{more} : ajoutez une règle pour "
                                       "ce cas, sinon la décision ne donne aucun résultat.", **where)


def _candidates(column: _Column, cells: list[str | None]) -> list:
    """Representative values of an input: each constant the cells use, its neighbours, values beyond."""
    if column.type_ref.lower() in _BOOLEAN_TYPES:
        return [True, False]
    constants = set()
    for cell in cells:
        if cell is None:
            continue
        try:
            tree = ast.parse(cell_expression(_VALUE, cell), mode="eval")
        except SyntaxError:
            continue
        constants |= {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
    numbers = sorted(c for c in constants if isinstance(c, (int, float)) and not isinstance(c, bool))
    values: list = []
    if numbers:
        integer = column.type_ref.lower() in _INTEGER_TYPES or all(isinstance(n, int) for n in numbers)
        step = 1 if integer else 0.5
        values += [numbers[0] - 1000 * step, numbers[-1] + 1000 * step]
        for number in numbers:
            values += [number - step, number, number + step]
        if not integer:
            values += [(a + b) / 2 for a, b in zip(numbers, numbers[1:], strict=False)]
    strings = sorted(c for c in constants if isinstance(c, str))
    if strings:
        values += [*strings, _OTHER]
    if any(isinstance(c, bool) for c in constants):
        values += [True, False]
    if None in constants:
        values.append(None)
    unique: list = []
    for value in values:
        if not any(value is known or (type(value) is type(known) and value == known) for known in unique):
            unique.append(value)
    return unique or [_OTHER]


def _matches(environment, columns: list[_Column], cells: list[str | None], point: tuple) -> bool:
    for cell, value in zip(cells, point, strict=False):
        if cell is None:
            continue
        if value is _OTHER:
            value = "\u2063autre valeur"
        try:
            if not environment.evaluate(cell_expression(_VALUE, cell), {_VALUE: value}):
                return False
        except Exception:  # a cell that fails on this value (a comparison of text with a number) does not match
            return False
    return True


def _describe(columns: list[_Column], point: tuple) -> str:
    return " et ".join(f"{column.label} = {_show(value)}" for column, value in zip(columns, point, strict=False))


def _show(value) -> str:
    if value is _OTHER:
        return "une autre valeur"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)
