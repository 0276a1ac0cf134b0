"""Which scenarios an upload concerns, to play them first: those of the processes its changed files make up.

A process is made of its BPMN file, the decision tables and forms it names (`calledDecisionId`,
`formJsonSchemaFilename`, `formUiSchemaFilename`) and, through its call activities (`calledElement`), what the
processes it calls are made of. A scenario concerns an upload when the process it starts is made of one of the
changed files. Read from the file texts, without parsing the specs: an analyst sees the answer at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from engine.runtime.catalogue import bpmn_processes, read_catalogue
from engine.scenarios.spec import ScenarioError, load_scenario

_DECISION = re.compile(r"<(?:\w+:)?decision\b[^>]*\bid=\"([^\"]+)\"")
_FORM_PROPERTIES = ("formJsonSchemaFilename", "formUiSchemaFilename")


@dataclass(frozen=True)
class Ordering:
    """The scenario files in the order to play them, how many concern the change, and the changed processes."""

    paths: list[Path]
    first: int
    processes: list[str]


def _made_of(files: dict[str, str]) -> dict[str, tuple[set[str], set[str]]]:
    """Process id → (the files it names directly, the processes it calls)."""
    decision_files = {decision: name for name, text in files.items() if name.endswith(".dmn")
                      for decision in _DECISION.findall(text)}
    found: dict[str, tuple[set[str], set[str]]] = {}
    for name, process in bpmn_processes(files):
        named = {name}
        for called in process.iter("{http://spiffworkflow.org/bpmn/schema/1.0/core}calledDecisionId"):
            if (called.text or "").strip() in decision_files:
                named.add(decision_files[(called.text or "").strip()])
        for prop in process.iter("{http://spiffworkflow.org/bpmn/schema/1.0/core}property"):
            if prop.get("name") in _FORM_PROPERTIES and prop.get("value"):
                named.add(f"forms/{prop.get('value')}")
        calls = {element.get("calledElement", "") for element in
                 process.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}callActivity")}
        found[process.get("id", "")] = (named, calls - {""})
    return found


def changed_processes(files: dict[str, str], changed: set[str]) -> list[str]:
    """The processes made of one of the `changed` files, themselves or through the processes they call."""
    made_of = _made_of(files)

    def touched(process_id: str, seen: frozenset[str]) -> bool:
        named, calls = made_of.get(process_id, (set(), set()))
        return bool(named & changed) or any(touched(called, seen | {called}) for called in calls - seen)

    return sorted(process_id for process_id in made_of if touched(process_id, frozenset({process_id})))


def changed_first(paths: list[Path], files: dict[str, str], changed: set[str]) -> Ordering:
    """The scenario files of the changed processes first (in name order), then the others; unreadable ones
    among the others (they fail at once, whatever they were about)."""
    processes = changed_processes(files, changed)
    first: list[Path] = []
    others: list[Path] = []
    for path in paths:
        try:
            process = load_scenario(path).process
        except ScenarioError:
            process = None
        (first if process in processes else others).append(path)
    labels = read_catalogue(files).labels()
    return Ordering(first + others, len(first), [labels.get(process_id, process_id) for process_id in processes])
