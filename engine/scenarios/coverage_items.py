"""What scenarios should exercise, read from the definition files: the items that coverage counts.

For each process: its user, manual and service tasks, and the outgoing flows
of each gateway that has a choice (two flows or more). For each decision
table: its rules, and the boundary values of its numeric cells (299 and 300
for `< 300`). Each item has a key, which `engine.scenarios.coverage` records
when a scenario reaches it, and the French words a report uses for it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

# Element kinds by their local name: the BPMN and DMN namespaces vary with the modeler's version.
# An untyped task runs as a manual one (done with a « C'est fait » button).
_TASKS = {"userTask": "tâche", "manualTask": "tâche manuelle", "task": "tâche manuelle",
          "serviceTask": "tâche automatique"}
_CHOICES = {"exclusiveGateway", "inclusiveGateway", "eventBasedGateway"}
_CONTAINERS = {"subProcess", "transaction", "adHocSubProcess"}
_INTEGER_TYPES = {"integer", "int", "long"}
_NUMBER = r"(-?\d+(?:\.\d+)?)"
_COMPARISON = re.compile(rf"^(<=|>=|<|>|==)\s*{_NUMBER}$")
_FEEL_RANGE = re.compile(rf"^([\[\]\(])\s*{_NUMBER}\s*\.\.\s*{_NUMBER}\s*([\[\]\)])$")
_BETWEEN = re.compile(rf"^{_NUMBER}\s*(<=|<)\s*\?\s*(<=|<)\s*{_NUMBER}$")
_PLAIN = re.compile(rf"^{_NUMBER}$")


@dataclass(frozen=True)
class Item:
    """One thing to exercise: its key, what it is, and what the report says when no scenario did."""

    key: tuple
    label: str
    verdict: str  # « jamais atteinte », « jamais emprunté »…

    @property
    def missing(self) -> str:
        """The French line when no scenario covered it (without the process or table)."""
        return f"{self.label} {self.verdict}" if self.key[0] == "limit" else f"{self.label} : {self.verdict}"


@dataclass
class Section:
    """The items of one process or one decision table, in the order of the file."""

    kind: str  # "processus" or "table"
    ident: str
    name: str
    items: list[Item] = field(default_factory=list)

    @property
    def title(self) -> str:
        """How the report names the section: « Processus hosting_project (Projet d'accueil) »."""
        head = f"{'Processus' if self.kind == 'processus' else 'Table'} {self.ident}"
        return f"{head} ({self.name})" if self.name and self.name != self.ident else head

    @property
    def prefix(self) -> str:
        """The start of each line about an item of the section: « Table volunteer_quota »."""
        return f"{'Processus' if self.kind == 'processus' else 'Table'} {self.ident}"


@dataclass
class Catalogue:
    """Every item of a set of definition files, and how elements that run map to them."""

    sections: list[Section] = field(default_factory=list)
    # Embedded subprocess id -> the process that holds it (SpiffWorkflow runs it under its own id).
    owners: dict[str, str] = field(default_factory=dict)
    # (process, gateway, target element) -> flow id.
    flows: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # Decision table id -> decision id (the engine knows the table, analysts the decision).
    decisions: dict[str, str] = field(default_factory=dict)

    def owner(self, spec_name: str) -> str:
        """The process a running (sub)process spec belongs to."""
        return self.owners.get(spec_name, spec_name)


def read_catalogue(files: dict[str, str]) -> Catalogue:
    """The items of the BPMN and DMN files among `files` (name -> text), processes first, in name order."""
    catalogue = Catalogue()
    tables: list[Section] = []
    for name in sorted(files):
        if name.endswith(".bpmn"):
            _read_bpmn(_root(files[name]), catalogue)
        elif name.endswith(".dmn"):
            tables += _read_dmn(_root(files[name]), catalogue)
    catalogue.sections += tables
    return catalogue


def _root(text: str):
    return etree.fromstring(text.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False))


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _read_bpmn(root, catalogue: Catalogue) -> None:
    for process in root:
        if _local(process) != "process":
            continue
        pid = process.get("id")
        section = Section("processus", pid, process.get("name") or "")
        names = {e.get("id"): e.get("name") or e.get("id") for e in process.iter() if e.get("id")}
        flows = [e for e in process.iter() if _local(e) == "sequenceFlow"]
        for element in process.iter():
            kind = _local(element)
            if kind in _CONTAINERS:
                catalogue.owners[element.get("id")] = pid
            if kind in _TASKS:
                label = f"{_TASKS[kind]} « {names[element.get('id')]} » ({element.get('id')})"
                section.items.append(Item(("task", pid, element.get("id")), label, "jamais atteinte"))
            if kind in _CHOICES:
                outgoing = [flow for flow in flows if flow.get("sourceRef") == element.get("id")]
                if len(outgoing) < 2:
                    continue
                for flow in outgoing:
                    gateway, target = element.get("id"), flow.get("targetRef")
                    catalogue.flows[(pid, gateway, target)] = flow.get("id")
                    way = flow.get("name") or names.get(target, target)
                    default = " (par défaut)" if element.get("default") == flow.get("id") else ""
                    label = f"passage « {names[gateway]} » → « {way} »{default}"
                    section.items.append(Item(("flow", pid, flow.get("id")), label, "jamais emprunté"))
        catalogue.sections.append(section)


def _read_dmn(root, catalogue: Catalogue) -> list[Section]:
    sections = []
    for decision in root:
        table = next((e for e in decision if _local(e) == "decisionTable"), None)
        if _local(decision) != "decision" or table is None:
            continue
        did = decision.get("id")
        catalogue.decisions[table.get("id")] = did
        section = Section("table", did, decision.get("name") or "")
        inputs = [e for e in table if _local(e) == "input"]
        limits: list[set[float]] = [set() for _ in inputs]
        rules = [e for e in table if _local(e) == "rule"]
        for number, rule in enumerate(rules, start=1):
            cells = [_text(e) for e in rule if _local(e) == "inputEntry"]
            conditions = []
            for position, (column, cell) in enumerate(zip(inputs, cells, strict=False)):
                if cell in ("", "-"):
                    continue
                conditions.append(_condition(_label(column), cell))
                limits[position] |= boundary_values(cell, _is_integer(column))
            label = f"règle {number} ({', '.join(conditions) or 'toujours'})"
            section.items.append(Item(("rule", did, rule.get("id")), label, "jamais retenue"))
        for column, values in zip(inputs, limits, strict=True):
            for value in sorted(values):
                shown = _number(value)
                label = f"{_label(column)} : valeur limite {shown}"
                section.items.append(Item(("limit", did, column.get("id"), value), label, "jamais essayée"))
        sections.append(section)
    return sections


def boundary_values(cell: str, integer: bool) -> set[float]:
    """The values on each side of the limits of a numeric cell (`< 300` → 299 and 300); none for other cells.

    Without whole numbers (a decimal input), only the limit itself: no value is next to it.
    """
    cell = cell.strip()
    step = 1 if integer else 0
    found = _COMPARISON.match(cell)
    if found:
        operator, limit = found.group(1), float(found.group(2))
        if operator == "==":
            return {limit}
        # The limit, and the value next to it on the side the operator excludes or includes.
        below = operator in ("<", ">=")
        return {limit - step, limit} if below else {limit, limit + step}
    found = _FEEL_RANGE.match(cell)
    if found:
        opening, low, high, closing = found.group(1), float(found.group(2)), float(found.group(3)), found.group(4)
        low_pair = {low - step, low} if opening == "[" else {low, low + step}
        high_pair = {high, high + step} if closing == "]" else {high - step, high}
        return low_pair | high_pair
    found = _BETWEEN.match(cell)
    if found:
        low, low_op, high_op, high = float(found.group(1)), found.group(2), found.group(3), float(found.group(4))
        low_pair = {low - step, low} if low_op == "<=" else {low, low + step}
        high_pair = {high, high + step} if high_op == "<=" else {high - step, high}
        return low_pair | high_pair
    found = _PLAIN.match(cell)
    return {float(found.group(1))} if found else set()


def _text(entry) -> str:
    text = next((e.text for e in entry if _local(e) == "text"), None)
    return (text or "").strip()


def _label(column) -> str:
    return column.get("label") or column.get("id")


def _is_integer(column) -> bool:
    expression = next((e for e in column if _local(e) == "inputExpression"), None)
    return expression is not None and (expression.get("typeRef") or "").lower() in _INTEGER_TYPES


def _condition(label: str, cell: str) -> str:
    """A cell read with its column: « Effectif < 300 », « 10 <= Effectif <= 20 », « Udogec = True »."""
    if "?" in cell:
        return cell.replace("?", label)
    if cell[:1] in "<>=![]()" or cell.startswith(("not ", "in ")):
        return f"{label} {cell}"
    return f"{label} = {cell}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")
