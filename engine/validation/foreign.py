"""Expressions written for other engines (Camunda's `${…}`, FEEL), and the Python to write instead.

Files drawn in Camunda Modeler or taken from other projects carry conditions in
JUEL (`${approved}`, `#{!approved}`) or FEEL (`= approved`, `x = "oui"`,
`true`, `some r in risks satisfies r = "red"`). SpiffWorkflow evaluates them as
Python: this module proposes the Python version when it can be derived, and
says what is wrong (a variable name with spaces) when it cannot.
"""
from __future__ import annotations

import keyword
import re

_STRINGS = re.compile(r"(\"[^\"]*\"|'[^']*')")
_WRAPPED = re.compile(r"^\s*[$#]\{(.*)\}\s*$", re.S)
_DATA_OBJECT = re.compile(r"bpmn:getDataObject\(\s*(['\"])(\w+)\1\s*\)")
_QUANTIFIED = re.compile(r"^(some|every)\s+(\w+)\s+in\s+(\w+)\s+satisfies\s+(.+)$", re.S)
# Outside string literals: JUEL's operators, FEEL's single `=` and its constants.
_REPLACEMENTS = (
    (re.compile(r"&&"), " and "),
    (re.compile(r"\|\|"), " or "),
    (re.compile(r"!(?!=)"), "not "),
    (re.compile(r"(?<![=!<>])=(?!=)"), "=="),
    (re.compile(r"\btrue\b"), "True"),
    (re.compile(r"\bfalse\b"), "False"),
    (re.compile(r"\bnull\b"), "None"),
)
_WORDS = re.compile(r"\b([A-Za-z_]\w*)((?:[ \t]+[A-Za-z_]\w*)+)\b")
_PYTHON_WORDS = frozenset(keyword.kwlist) | {"True", "False", "None"}


def python_version(text: str) -> str | None:
    """The Python form of an expression written in JUEL or FEEL; None when it shows no sign of them."""
    source = _DATA_OBJECT.sub(lambda match: match.group(2), text.strip())
    if match := _WRAPPED.match(source):
        source = match.group(1).strip()
    if source.startswith("=") and not source.startswith("=="):
        source = source[1:].strip()
    if match := _QUANTIFIED.match(source):
        function = "any" if match.group(1) == "some" else "all"
        condition = python_version(match.group(4)) or match.group(4)
        source = f"{function}({condition} for {match.group(2)} in {match.group(3)})"
    parts = _STRINGS.split(source)
    for index in range(0, len(parts), 2):
        for pattern, replacement in _REPLACEMENTS:
            parts[index] = pattern.sub(replacement, parts[index])
        parts[index] = re.sub(r"\s+", " ", parts[index])
    result = "".join(parts).strip()
    return result if result != text.strip() else None


def spaced_names(text: str) -> list[str]:
    """Names written with spaces (`Vacation Approval`), as a label would be: a variable name has none."""
    found = []
    for part in _STRINGS.split(text)[::2]:
        for match in _WORDS.finditer(part):
            words = match.group(0).split()
            # `x in y`, `a and b`: Python's own words join names; only runs of plain names are suspect.
            if not any(word in _PYTHON_WORDS or word in ("satisfies", "some", "every") for word in words):
                found.append(" ".join(words))
    return found


def snake_case(name: str) -> str:
    """A label as a variable name: `Vacation Approval` → `vacation_approval`."""
    return re.sub(r"\W+", "_", name.strip().lower()).strip("_")
