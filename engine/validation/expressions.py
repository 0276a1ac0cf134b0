"""Scripts and expressions checked as the engine will run them: RestrictedPython, the platform's builtins."""
from __future__ import annotations

import ast
import builtins
import re

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from engine.runtime.scripting import SAFE_BUILTINS, ScriptRefused, compile_expression, compile_script
from engine.validation.foreign import python_version, snake_case, spaced_names

_SYNTAX = re.compile(r"Line (\d+): SyntaxError: (.*?) at statement: (['\"])(.*)\3", re.S)
# Python's syntax errors an analyst meets most, in French; any other is given as it is, as a detail.
_PYTHON_SYNTAX = (
    (re.compile(r"^invalid syntax\. Perhaps you forgot a comma\?$"), "syntaxe invalide ; une virgule manque-t-elle ?"),
    (re.compile(r"^invalid syntax\. Maybe you meant '==' or ':=' instead of '='\?$"),
     "syntaxe invalide ; pour comparer, écrivez « == » et non « = »"),
    (re.compile(r"^invalid syntax$"), "syntaxe invalide"),
    (re.compile(r"^unterminated string literal.*"), "un texte n'est pas fermé par un guillemet"),
    (re.compile(r"^unterminated triple-quoted string literal.*"), "un texte n'est pas fermé par ses trois guillemets"),
    (re.compile(r"^'(.)' was never closed$"), "la parenthèse ou le crochet « {0} » n'est jamais fermé"),
    (re.compile(r"^unmatched '(.)'$"), "« {0} » ferme une parenthèse ou un crochet jamais ouvert"),
    (re.compile(r"^closing parenthesis '(.)' does not match opening parenthesis '(.)'.*"),
     "« {0} » ne ferme pas « {1} »"),
    (re.compile(r"^invalid decimal literal$"), "un nombre est mal écrit (ou un nom commence par un chiffre)"),
    (re.compile(r"^expected ':'$"), "deux-points « : » manquent"),
    (re.compile(r"^unexpected indent$"), "une ligne est indentée sans raison"),
    (re.compile(r"^expected an indented block.*"), "un bloc indenté manque"),
    (re.compile(r"^unindent does not match any outer indentation level$"), "l'indentation d'une ligne est incohérente"),
    (re.compile(r"^cannot assign to (.*?)(?: here)?\. Maybe you meant '==' instead of '='\?$"),
     "pour comparer, écrivez « == » et non « = »"),
    (re.compile(r"^unexpected EOF while parsing$"), "l'expression s'arrête avant sa fin"),
    (re.compile(r"^invalid character '(.)' \(U\+\w+\)$"), "le caractère « {0} » n'est pas permis"),
)
_UNDERSCORE = re.compile(r'Line (\d+): "([^"]+)" is an invalid (attribute|variable) name because it starts with "_"')
_NOT_ALLOWED = re.compile(r"Line (\d+): (\w+) (calls|statements) are not allowed")
# Python builtins a script would call in vain: the restricted engine does not give them.
_MISSING_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_")) - set(SAFE_BUILTINS)
_TEMPLATES = SandboxedEnvironment()


def expression_problem(text: str, written: str | None = "les expressions") -> str | None:
    """Why an expression (condition, parameter, DMN cell) would not run, in French; None when it compiles.

    When the text is written for another engine (`${…}`, FEEL), the message ends with the Python to write,
    introduced by `written` (« les conditions », « les cellules »…).
    """
    problem = _problem(text, compile_expression, "eval")
    if problem is None:
        return None
    return f"{problem} ; {hint}" if written and (hint := foreign_hint(text, written)) else problem


def foreign_hint(text: str, written: str = "les expressions") -> str | None:
    """What to write instead of an expression in JUEL or FEEL, or of names with spaces; None when nothing is known."""
    python = python_version(text)
    if python is not None and _compiles(python):
        return f"{written} s'écrivent en Python : `{python}`"
    names = spaced_names(python or text)
    if names:
        said = ", ".join(f"« {name} » (par exemple `{snake_case(name)}`)" for name in names)
        return (f"{written} s'écrivent en Python, où un nom de variable n'a pas d'espace : {said} ; c'est le nom "
                "de la variable qu'il faut écrire, pas son libellé")
    if python is not None:
        return f"{written} s'écrivent en Python, pas en JUEL (`${{…}}`) ni en FEEL"
    return None


def _compiles(text: str) -> bool:
    try:
        compile_expression(text)
    except ScriptRefused:
        return False
    return True


def script_problem(text: str) -> str | None:
    """Why a script would not run, in French; None when it compiles."""
    return _problem(text, compile_script, "exec")


def template_problem(text: str) -> str | None:
    """Why a task's instructions (a Jinja template) would not render, in French; None when it parses."""
    try:
        _TEMPLATES.parse(text)
    except TemplateSyntaxError as error:
        return f"ligne {error.lineno} des instructions : syntaxe de modèle invalide ({error.message})"
    return None


def unbounded_loops(text: str) -> list[int]:
    """Lines of the `while` loops of a script (or recursive functions): nothing bounds their turns but the budget."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    lines = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.While)]
    for function in (node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)):
        if any(isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == function.name
               for call in ast.walk(function)):
            lines.append(function.lineno)
    return sorted(lines)


def _problem(text: str, compile_restricted, mode: str) -> str | None:
    try:
        compile_restricted(text)
    except ScriptRefused as refused:
        return _french(str(refused).split(" : ", 1)[-1])
    tree = ast.parse(text, mode=mode)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            return f"ligne {node.lineno} : « import » est interdit dans les scripts de la plateforme"
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in _MISSING_BUILTINS:
            return f"ligne {node.lineno} : la fonction « {node.id} » n'est pas disponible dans les scripts"
    return None


def _french(errors: str) -> str:
    """RestrictedPython's messages for the two mistakes analysts make: syntax, and names starting with `_`."""
    said = []
    for error in errors.split(" ; "):
        if match := _SYNTAX.match(error):
            said.append(f"ligne {match.group(1)} : {_syntax(match.group(2))} dans « {match.group(4)} »")
        elif match := _UNDERSCORE.match(error):
            said.append(f"ligne {match.group(1)} : le nom « {match.group(2)} » commence par « _ », ce qui est interdit")
        elif match := _NOT_ALLOWED.match(error):
            what = "la fonction" if match.group(3) == "calls" else "l'instruction"
            said.append(f"ligne {match.group(1)} : {what} « {match.group(2).lower()} » est interdite dans les scripts")
        else:
            said.append(error)
    return " ; ".join(said)


def _syntax(message: str) -> str:
    """A Python syntax error in French where its form is known, else its raw text as a detail."""
    for pattern, french in _PYTHON_SYNTAX:
        if match := pattern.match(message.strip()):
            return f"erreur de syntaxe ({french.format(*match.groups())})"
    return f"erreur de syntaxe (détail de Python : {message})"


def loaded_names(expression: str) -> set[str]:
    """Variables an expression reads (builtins and names it binds itself left out); empty when it does not parse."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return set()
    bound = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    bound |= {arg.arg for node in ast.walk(tree) if isinstance(node, ast.Lambda) for arg in node.args.args}
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
            and node.id not in bound and node.id not in SAFE_BUILTINS and node.id not in dir(builtins)}


def assigned_names(script: str) -> set[str]:
    """Variables a script sets at its top level (what it leaves in the instance data)."""
    try:
        tree = ast.parse(script, mode="exec")
    except SyntaxError:
        return set()
    names: set[str] = set()
    for statement in tree.body:
        targets = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
            targets = [statement.target]
        elif isinstance(statement, (ast.For, ast.With)):
            targets = [getattr(statement, "target", None)] + [item.optional_vars for item in
                                                               getattr(statement, "items", [])]
        for target in targets:
            if target is not None:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names
