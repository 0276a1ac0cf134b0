"""Scripts, conditions and parameters read variables that some step produces.

A variable no step of any process produces is a mistake (a typo, a renamed
form or decision output): an error. One produced elsewhere but not upstream
of where it is read may be a path the check cannot follow: a warning.
"""
from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator

from engine.runtime.scripting import SAFE_BUILTINS
from engine.validation.bpmn import expressions_of
from engine.validation.dataflow import START_VARIABLES, DataFlow
from engine.validation.expressions import loaded_names
from engine.validation.model import NS, Definitions, Node, text_of
from engine.validation.problems import WARNING, Problem


def check_variables(definitions: Definitions) -> Iterator[Problem]:
    """Each piece of code reads only variables produced upstream (error when produced nowhere)."""
    flow = DataFlow(definitions)
    everywhere = set(START_VARIABLES)
    for node in definitions.nodes():
        everywhere |= flow.produced(node) | flow.item_names(node)
    for scope in definitions.all_scopes():
        for node in scope.nodes.values():
            available = flow.available(node) | flow.item_names(node)
            for what, text, kind in expressions_of(node):
                if kind == "template":
                    continue
                seen = available | (flow.produced(node) if "post-script" in what else set())
                yield from _report(node, what, _read(text, kind), seen, everywhere)
            for loop in node.element.iterfind("bpmn:multiInstanceLoopCharacteristics/bpmn:loopDataInputRef", NS):
                yield from _report(node, "la collection de la boucle", {text_of(loop)} - {""}, available, everywhere)
        for flow_node in scope.flows.values():
            source = scope.nodes.get(flow_node.element.get("sourceRef", ""))
            if source is None:
                continue
            seen = flow.available(source) | flow.produced(source)
            for what, text, kind in expressions_of(flow_node):
                yield from _report(flow_node, what, _read(text, kind), seen, everywhere)


# Constants as JavaScript, JUEL or FEEL write them: Python reads them as variables nothing produces.
_OTHER_CONSTANTS = {"true": "True", "false": "False", "null": "None", "nil": "None", "undefined": "None"}


def _report(node: Node, what: str, names: set[str], seen: set[str], everywhere: set[str]) -> Iterator[Problem]:
    for name in sorted(names - seen):
        if name in everywhere:
            yield Problem("data.upstream", node.file,
                          f"{what} lit « {name} », qu'aucune étape en amont ne produit : vérifiez l'ordre des étapes.",
                          node.id, node.name, node.line, WARNING)
        elif name in _OTHER_CONSTANTS:
            yield Problem("data.unknown", node.file,
                          f"{what} lit « {name} » comme une variable : en Python, cette constante s'écrit "
                          f"« {_OTHER_CONSTANTS[name]} ».", node.id, node.name, node.line)
        else:
            yield Problem("data.unknown", node.file,
                          f"{what} lit « {name} », qu'aucune étape ne produit (nom mal écrit, ou champ, résultat ou "
                          "sortie de table de décision renommé ?).", node.id, node.name, node.line)


def _read(text: str, kind: str) -> set[str]:
    """Variables a script or expression reads from the instance data."""
    if kind == "expression":
        return loaded_names(text)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}
    stored |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stored |= {a.arg for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda)) for a in n.args.args}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            and n.id not in stored and n.id not in SAFE_BUILTINS and n.id not in dir(builtins)}

