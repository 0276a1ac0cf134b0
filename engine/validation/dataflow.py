"""Which variables may exist when an element runs: what the steps upstream of it produce.

A variable is *produced upstream* of an element when some element on a path
leading to it sets it: a user task (its `variableName`, or its form's fields),
a service task (its `resultVariable`), a business rule task (its decision's
outputs), a script (what it assigns), a message (its `messageVariable`). A
called process also sees what its callers had, and every instance starts with
the data the platform puts in it.
"""
from __future__ import annotations

from engine.validation.expressions import assigned_names
from engine.validation.forms import form_name
from engine.validation.model import NS, SCOPES, Definitions, Node, Scope, dmn_children, local, text_of

# What `engine.runtime.runtime.ProcessRuntime.start` puts in every new instance (docs/processes.md).
START_VARIABLES = frozenset({"establishment_id", "establishment", "campaign", "structure_code"})


class DataFlow:
    """Variables available at each element of a set of definitions."""

    def __init__(self, definitions: Definitions):
        self.definitions = definitions
        self._scope_of: dict[int, Scope] = {}
        self._parent: dict[int, Scope] = {}
        for scope in definitions.all_scopes():
            for node in scope.nodes.values():
                self._scope_of[id(node.element)] = scope
            for child in scope.children:
                self._parent[id(child.element)] = scope
        self._inherited: dict[str, frozenset[str]] = {}

    def available(self, node: Node) -> set[str]:
        """Variables that some path to `node` may have set before it runs."""
        scope = self._scope_of[id(node.element)]
        names = set(self._scope_inherited(scope, set()))
        for ancestor in self._ancestors(scope, node.id):
            names |= self.produced(scope.nodes[ancestor])
        return names

    def produced(self, node: Node) -> set[str]:
        """Variables an element sets when it runs."""
        element, kind = node.element, node.kind
        names: set[str] = set()
        if kind == "userTask":
            variable = text_of(node.spiff("spiffworkflow:variableName"))
            if variable:
                names.add(variable)
            else:
                form = self.definitions.forms.get(f"forms/{form_name(node)[0]}")
                if isinstance(form, dict) and isinstance(form.get("properties"), dict):
                    names |= set(form["properties"])
        elif kind == "serviceTask":
            operator = node.spiff("spiffworkflow:serviceTaskOperator")
            if operator is not None and operator.get("resultVariable"):
                names.add(operator.get("resultVariable"))
        elif kind == "businessRuleTask":
            names |= self.decision_outputs(text_of(node.spiff("spiffworkflow:calledDecisionId")))
        elif kind == "scriptTask":
            names |= assigned_names(text_of(element.find("bpmn:script", NS)))
        elif kind == "callActivity":
            names |= self._produced_by_process(element.get("calledElement"), set())
        elif kind in SCOPES:
            names |= {name for inner in self._inner_nodes(element) for name in self.produced(inner)}
        for tag in ("preScript", "postScript"):
            names |= assigned_names(text_of(node.spiff(f"spiffworkflow:{tag}")))
        for variable in element.iterfind(".//spiffworkflow:messageVariable", NS):
            names.add(text_of(variable))
        for output in element.iterfind("bpmn:multiInstanceLoopCharacteristics/bpmn:loopDataOutputRef", NS):
            names.add(text_of(output))
        return {name for name in names if name}

    def decision_outputs(self, decision_id: str) -> set[str]:
        """Names of a decision's outputs (empty when the decision is unknown)."""
        found = self.definitions.decisions.get(decision_id)
        if found is None:
            return set()
        # SpiffWorkflow names an output by its label when it has no name (`Rule.output_as_dict`).
        return {output.get("name") or output.get("label") for table in dmn_children(found[1], "decisionTable")
                for output in dmn_children(table, "output") if output.get("name") or output.get("label")}

    def _inner_nodes(self, element) -> list[Node]:
        scope = next(s for s in self.definitions.all_scopes() if s.element is element)
        return [node for node in scope.nodes.values()]

    def _ancestors(self, scope: Scope, node_id: str) -> set[str]:
        seen: set[str] = set()
        pending = self._predecessors(scope, node_id)
        while pending:
            current = pending.pop()
            if current in seen or current not in scope.reachable:
                continue
            seen.add(current)
            pending.extend(self._predecessors(scope, current))
        return seen

    @staticmethod
    def _predecessors(scope: Scope, node_id: str) -> list[str]:
        node = scope.nodes.get(node_id)
        # A boundary event happens while its activity runs: it follows what precedes the activity.
        if node is not None and node.kind == "boundaryEvent":
            return [f.element.get("sourceRef") for f in scope.incoming(node.element.get("attachedToRef", ""))]
        return [f.element.get("sourceRef") for f in scope.incoming(node_id)]

    def _scope_inherited(self, scope: Scope, visiting: set[str]) -> frozenset[str]:
        parent = self._parent.get(id(scope.element))
        if parent is None:
            return self._process_inherited(scope.id, visiting)
        holder = parent.nodes[scope.id]
        names = set(self.item_names(holder))
        if scope.element.get("triggeredByEvent") == "true":
            names |= self._scope_inherited(parent, visiting)
            names |= {name for node in parent.nodes.values() for name in self.produced(node)}
        else:
            names |= self._scope_inherited(parent, visiting)
            for ancestor in self._ancestors(parent, holder.id):
                names |= self.produced(parent.nodes[ancestor])
        return frozenset(names)

    def _process_inherited(self, process_id: str, visiting: set[str]) -> frozenset[str]:
        if process_id in self._inherited:
            return self._inherited[process_id]
        if process_id in visiting:
            return START_VARIABLES
        visiting = visiting | {process_id}
        names = set(START_VARIABLES)
        for call in self.definitions.nodes("callActivity"):
            if call.element.get("calledElement") != process_id:
                continue
            scope = self._scope_of[id(call.element)]
            names |= self.item_names(call)
            names |= self._scope_inherited(scope, visiting)
            for ancestor in self._ancestors(scope, call.id):
                names |= self.produced(scope.nodes[ancestor])
        self._inherited[process_id] = frozenset(names)
        return self._inherited[process_id]

    def _produced_by_process(self, process_id: str | None, visiting: set[str]) -> set[str]:
        if not process_id or process_id in visiting:
            return set()
        names: set[str] = set()
        for scope in self.definitions.scopes:
            if scope.id == process_id:
                for node in scope.nodes.values():
                    if node.kind == "callActivity":
                        names |= self._produced_by_process(node.element.get("calledElement"), visiting | {process_id})
                    else:
                        names |= self.produced(node)
        return names

    @staticmethod
    def item_names(node: Node) -> set[str]:
        """The variable a multi-instance activity gives each of its instances (`inputDataItem`)."""
        names = set()
        for loop in node.element.iterfind("bpmn:multiInstanceLoopCharacteristics", NS):
            for item in loop:
                if local(item) == "inputDataItem":
                    names.add(item.get("name") or item.get("id"))
        return {name for name in names if name}
