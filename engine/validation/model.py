"""The definition files as the checks read them: BPMN and DMN trees, forms, and each process's flow graph.

The checks read the XML themselves (lxml) rather than SpiffWorkflow's parsed
specs: they must report on files SpiffWorkflow refuses, and name every
element by its id, label, file and line.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/20191111/MODEL/", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "http://www.omg.org/spec/DMN/20151101/dmn.xsd")
NS = {"bpmn": BPMN, "bpmndi": BPMNDI, "spiffworkflow": SPIFF}

FLOW_NODES = frozenset({
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "manualTask", "sendTask", "receiveTask",
    "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
})
SCOPES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
# Lines and line numbers of lxml are reliable only for parsed text; big files need the huge tree option.
_POSITION = re.compile(r",? line \d+,? column \d+")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=False)


def local(element) -> str:
    """Tag of an element without its namespace."""
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def text_of(element) -> str:
    """Stripped text of an element, empty when absent."""
    return (element.text or "").strip() if element is not None else ""


@dataclass
class Node:
    """A flow node or sequence flow of a BPMN file, where an analyst finds it."""

    element: etree._Element
    file: str
    process_id: str
    scope: etree._Element

    @property
    def id(self) -> str:
        """The element's id."""
        return self.element.get("id", "")

    @property
    def name(self) -> str | None:
        """The element's label, when it has one."""
        name = (self.element.get("name") or "").strip()
        return " ".join(name.split()) or None

    @property
    def kind(self) -> str:
        """The element's BPMN type (`userTask`, `exclusiveGateway`…)."""
        return local(self.element)

    @property
    def line(self) -> int | None:
        """Line of the element in its file."""
        return self.element.sourceline

    def spiff(self, path: str):
        """The first spiffworkflow extension at `path` under the element's extensionElements, or None."""
        return self.element.find(f"bpmn:extensionElements/{path}", NS)

    def properties(self) -> dict[str, str]:
        """The element's `spiffworkflow:property` name → value pairs."""
        return {p.get("name"): p.get("value", "") for p in
                self.element.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)}


@dataclass
class Scope:
    """A process or an embedded subprocess: its own nodes and sequence flows."""

    element: etree._Element
    file: str
    process_id: str
    nodes: dict[str, Node] = field(default_factory=dict)
    flows: dict[str, Node] = field(default_factory=dict)
    children: list[Scope] = field(default_factory=list)

    @property
    def id(self) -> str:
        """Id of the process or subprocess."""
        return self.element.get("id", "")

    def outgoing(self, node_id: str) -> list[Node]:
        """Sequence flows leaving a node, in file order."""
        return [f for f in self.flows.values() if f.element.get("sourceRef") == node_id]

    def incoming(self, node_id: str) -> list[Node]:
        """Sequence flows reaching a node."""
        return [f for f in self.flows.values() if f.element.get("targetRef") == node_id]

    def roots(self) -> list[str]:
        """Nodes where a path starts: start events, event subprocesses, catching link events."""
        return [n.id for n in self.nodes.values() if n.kind == "startEvent"
                or (n.kind in SCOPES and n.element.get("triggeredByEvent") == "true")
                or (n.kind == "intermediateCatchEvent" and n.element.find("bpmn:linkEventDefinition", NS) is not None)]

    @cached_property
    def reachable(self) -> frozenset[str]:
        """Nodes some path reaches from a root, boundary events of reached activities included."""
        reached = set(self.roots())
        pending = list(reached)
        while pending:
            current = pending.pop()
            following = [flow.element.get("targetRef") for flow in self.outgoing(current)]
            following += [n.id for n in self.nodes.values() if n.kind == "boundaryEvent"
                          and n.element.get("attachedToRef") == current]
            for target in following:
                if target in self.nodes and target not in reached:
                    reached.add(target)
                    pending.append(target)
        return frozenset(reached)


@dataclass
class Definitions:
    """Every file of a validation, parsed once, with what failed to parse."""

    texts: dict[str, str]
    bpmn: dict[str, etree._Element] = field(default_factory=dict)
    dmn: dict[str, etree._Element] = field(default_factory=dict)
    forms: dict[str, object] = field(default_factory=dict)
    unreadable: dict[str, tuple[str, int | None]] = field(default_factory=dict)

    @classmethod
    def read(cls, texts: dict[str, str]) -> Definitions:
        """Parse every BPMN, DMN and JSON file; keep why the others could not be read."""
        definitions = cls(texts=texts)
        for name, text in texts.items():
            if name.endswith((".bpmn", ".dmn")):
                try:
                    root = etree.fromstring(text.encode("utf-8"), _PARSER)
                except etree.XMLSyntaxError as error:
                    definitions.unreadable[name] = (f"le fichier n'est pas du XML lisible : {xml_error(error.msg)}",
                                                    error.lineno)
                    continue
                except Exception as error:  # lxml's other refusals (a huge or odd file) are said, never raised
                    definitions.unreadable[name] = (f"erreur inattendue en lisant ce fichier (détail : "
                                                    f"{type(error).__name__} : {error})", None)
                    continue
                (definitions.bpmn if name.endswith(".bpmn") else definitions.dmn)[name] = root
            elif name.endswith(".json"):
                try:
                    definitions.forms[name] = json.loads(text)
                except json.JSONDecodeError as error:
                    definitions.unreadable[name] = (f"le fichier n'est pas du JSON lisible : {json_error(error.msg)}",
                                                    error.lineno)
                except RecursionError:
                    definitions.unreadable[name] = ("le fichier JSON est imbriqué trop profondément pour être lu", None)
        return definitions

    @cached_property
    def scopes(self) -> list[Scope]:
        """The processes of every BPMN file, each with its nested subprocesses."""
        found = []
        for name, root in self.bpmn.items():
            for process in root.iterfind("bpmn:process", NS):
                found.append(_scope(process, name, process.get("id", "")))
        return found

    def all_scopes(self) -> list[Scope]:
        """Processes and every subprocess within them."""
        pending, result = list(self.scopes), []
        while pending:
            scope = pending.pop(0)
            result.append(scope)
            pending.extend(scope.children)
        return result

    def nodes(self, *kinds: str) -> list[Node]:
        """Flow nodes of every process, optionally of some kinds only."""
        return [node for scope in self.all_scopes() for node in scope.nodes.values()
                if not kinds or node.kind in kinds]

    def flows(self) -> list[Node]:
        """Sequence flows of every process."""
        return [flow for scope in self.all_scopes() for flow in scope.flows.values()]

    @cached_property
    def decisions(self) -> dict[str, tuple[str, etree._Element]]:
        """DMN decisions by id: (file, decision element)."""
        found = {}
        for name, root in self.dmn.items():
            for decision in root.iter():
                if local(decision) == "decision" and decision.get("id"):
                    found[decision.get("id")] = (name, decision)
        return found

    def process_file(self, process_id: str) -> str | None:
        """File holding a process."""
        return next((scope.file for scope in self.scopes if scope.id == process_id), None)

    def lane_of(self) -> dict[tuple[str, str], etree._Element]:
        """(process id, node id) → lane element that lists the node."""
        lanes = {}
        for scope in self.scopes:
            for lane in scope.element.iterfind(".//bpmn:lane", NS):
                for ref in lane.iterfind("bpmn:flowNodeRef", NS):
                    lanes[(scope.id, text_of(ref))] = lane
        return lanes


_XML_ERRORS = (
    (re.compile(r"Opening and ending tag mismatch: (\S+) line (\d+) and (\S+)"),
     "la balise « {2} » ferme la balise « {0} » ouverte ligne {1}"),
    (re.compile(r"Premature end of data in tag (\S+) line (\d+)"),
     "le fichier s'arrête avant la fin de la balise « {0} » ouverte ligne {1}"),
    (re.compile(r"Attribute (\S+) redefined"), "l'attribut « {0} » est écrit deux fois"),
    (re.compile(r"AttValue: \" or ' expected"), "une valeur d'attribut n'est pas entre guillemets"),
    (re.compile(r"Extra content at the end of the document"), "du contenu suit la fin du document"),
    (re.compile(r"Document is empty"), "le document est vide"),
    (re.compile(r"StartTag: invalid element name"), "un nom de balise est invalide"),
)
_JSON_ERRORS = {
    "Expecting ',' delimiter": "une virgule manque",
    "Expecting ':' delimiter": "deux-points « : » manquent",
    "Expecting property name enclosed in double quotes": "un nom de champ doit être entre guillemets droits",
    "Expecting value": "une valeur manque",
    "Extra data": "du contenu suit la fin du document",
    "Unterminated string starting at": "un texte n'est pas fermé par un guillemet",
    "Invalid control character at": "un caractère de contrôle (retour à la ligne ?) est dans un texte",
}


def xml_error(message: str) -> str:
    """A libxml2 reading error in French where its form is known, else as it is (without its position)."""
    message = _POSITION.sub("", message)
    for pattern, french in _XML_ERRORS:
        if match := pattern.search(message):
            return french.format(*match.groups())
    return message


def json_error(message: str) -> str:
    """A JSON reading error in French."""
    return _JSON_ERRORS.get(message, message)


def _scope(element, file: str, process_id: str) -> Scope:
    scope = Scope(element=element, file=file, process_id=process_id)
    for child in element:
        kind = local(child)
        if kind in FLOW_NODES:
            scope.nodes[child.get("id", "")] = Node(child, file, process_id, element)
            if kind in SCOPES:
                scope.children.append(_scope(child, file, process_id))
        elif kind == "sequenceFlow":
            scope.flows[child.get("id", "")] = Node(child, file, process_id, element)
    return scope


def dmn_children(element, tag: str) -> list:
    """Direct children of a DMN element with a local tag name, whatever the DMN version's namespace."""
    return [child for child in element if local(child) == tag]


def dmn_text(element) -> str | None:
    """Text of a DMN element's `text` child (None when absent or empty)."""
    texts = dmn_children(element, "text")
    value = (texts[0].text or "").strip() if texts else ""
    return value or None
