"""Files that do not parse, what SpiffWorkflow refuses, and diagrams missing a shape or an edge."""
from __future__ import annotations

import re
from collections.abc import Iterator

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.validation.model import FLOW_NODES, NS, Definitions, local
from engine.validation.problems import Problem

_NOT_EXPECTED = re.compile(r"Element '\{[^}]*\}(\w+)': This element is not expected")
_ATTRIBUTE = re.compile(r"Element '\{[^}]*\}(\w+)', attribute '([^']+)': (.*)")
_MISSING_CHILD = re.compile(r"Element '\{[^}]*\}(\w+)': Missing child element")
_NAMESPACE = re.compile(r"\{[^}]*\}")
_REPORTED = FLOW_NODES | {"sequenceFlow", "lane", "participant", "process", "decision", "rule", "input", "output"}


def check_parsing(definitions: Definitions) -> Iterator[Problem]:
    """Files that are not XML or JSON at all, with the line where reading stopped."""
    for name, (message, line) in definitions.unreadable.items():
        yield Problem("xml.parse" if name.endswith((".bpmn", ".dmn")) else "json.parse", name,
                      f"{message} (ligne {line})" if line else message, line=line)


def check_engine_parsing(definitions: Definitions) -> Iterator[Problem]:
    """What SpiffWorkflow itself refuses: the BPMN 2.0 schema, DMN tables, call activities without a process."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    readable = []
    for name in definitions.bpmn:
        try:
            # One parser per file first: a schema error then names its own file, not the first one read.
            SpiffBpmnParser(validator=VALIDATOR).add_bpmn_str(definitions.texts[name].encode("utf-8"), filename=name)
            parser.add_bpmn_str(definitions.texts[name].encode("utf-8"), filename=name)
            readable.append(name)
        except ValidationException as error:
            yield _engine_problem(definitions, name, error, "engine.schema")
        except Exception as error:  # any other failure of the library on a strange file is still reported
            yield Problem("engine.schema", name, f"le moteur ne peut pas lire ce fichier : {error}")
    for name in definitions.dmn:
        try:
            parser.add_dmn_str(definitions.texts[name].encode("utf-8"), filename=name)
        except ValidationException as error:
            yield _engine_problem(definitions, name, error, "engine.schema")
        except Exception as error:  # the DMN parser raises bare errors on malformed tables
            yield Problem("engine.schema", name, f"le moteur ne peut pas lire cette table de décision : {error}")
    if len(readable) != len(definitions.bpmn):
        return
    for process_id in parser.get_process_ids():
        try:
            parser.get_spec(process_id)
            parser.get_subprocess_specs(process_id)
        except ValidationException as error:
            yield _engine_problem(definitions, error.file_name or definitions.process_file(process_id) or "?", error)
        except Exception as error:  # the library's own failures on odd diagrams become a readable problem
            yield Problem("engine.parse", definitions.process_file(process_id) or "?",
                          f"le moteur ne peut pas préparer le processus : {error}", process_id)


def _engine_problem(definitions: Definitions, name: str, error: ValidationException,
                    rule: str = "engine.parse") -> Problem:
    line = getattr(error, "line_number", None) or None
    element_id = getattr(error, "id", None) or None
    element_name = getattr(error, "name", None) or None
    root = definitions.bpmn.get(name) if name in definitions.bpmn else definitions.dmn.get(name)
    found = None
    if root is not None:
        found = next((e for e in root.iter() if element_id and e.get("id") == element_id), None)
        found = found if found is not None else next((e for e in root.iter() if line and e.sourceline == line), None)
    # Said of the element an analyst selects in a modeler (a task, a rule), where other checks report too.
    while found is not None and local(found) not in _REPORTED:
        found = found.getparent()
    if found is not None:
        element_id, element_name = found.get("id"), found.get("name")
        line = line or found.sourceline
    return Problem(rule, name, _french(str(error).split("\n")[0]), element_id, element_name, line)


def _french(message: str) -> str:
    """SpiffWorkflow's and the XML schema's messages, said in French where their form is known."""
    if match := _NOT_EXPECTED.search(message):
        return f"l'élément « {match.group(1)} » n'est pas permis à cet endroit par le schéma BPMN 2.0"
    if match := _ATTRIBUTE.search(message):
        return (f"l'attribut « {_NAMESPACE.sub('', match.group(2))} » de « {match.group(1)} » n'est pas conforme "
                f"au schéma BPMN 2.0 ({_NAMESPACE.sub('', match.group(3))})")
    if match := _MISSING_CHILD.search(message):
        return f"il manque un élément dans « {match.group(1)} » (schéma BPMN 2.0)"
    if "did not find" in message.lower() or "unable to find" in message.lower() or "could not find" in message.lower():
        return f"élément introuvable : {message}"
    return f"refusé par le moteur : {_NAMESPACE.sub('', message)}"


def check_diagram(definitions: Definitions) -> Iterator[Problem]:
    """Every flow node, lane and pool drawn once; every sequence flow drawn as an edge."""
    for name, root in definitions.bpmn.items():
        shapes = [s.get("bpmnElement") for s in root.iterfind(".//bpmndi:BPMNShape", NS)]
        edges = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
        if root.find("bpmndi:BPMNDiagram", NS) is None:
            yield Problem("di.missing", name, "le fichier n'a pas de diagramme (BPMNDI) : il ne s'ouvre pas dans un "
                                              "modeleur. Enregistrez-le depuis bpmn.io ou Camunda Modeler.")
            continue
        drawn = [element for element in root.iter() if isinstance(element.tag, str)
                 and local(element) in ("lane", "participant")]
        for scope in definitions.all_scopes():
            if scope.file == name:
                drawn.extend(node.element for node in scope.nodes.values())
        for element in drawn:
            count = shapes.count(element.get("id"))
            if count == 0:
                yield Problem("di.shape", name, f"{_KIND.get(local(element), 'élément')} sans forme dans le diagramme : "
                                                "il n'apparaît pas dans le modeleur. Supprimez-le ou redessinez-le.",
                              element.get("id"), element.get("name"), element.sourceline)
            elif count > 1:
                yield Problem("di.shape", name, "élément dessiné plusieurs fois dans le diagramme.",
                              element.get("id"), element.get("name"), element.sourceline)
        for flow in definitions.flows():
            if flow.file == name and flow.id not in edges:
                yield Problem("di.edge", name, "flux sans tracé dans le diagramme : la flèche n'apparaît pas dans le "
                                               "modeleur. Redessinez-la.", flow.id, flow.name, flow.line)


_KIND = {"lane": "couloir", "participant": "bassin", "userTask": "tâche utilisateur", "serviceTask": "tâche de service",
         "scriptTask": "tâche de script", "businessRuleTask": "tâche de règle métier", "startEvent": "événement de début",
         "endEvent": "événement de fin", "exclusiveGateway": "passerelle exclusive",
         "parallelGateway": "passerelle parallèle", "callActivity": "activité d'appel", "subProcess": "sous-processus",
         "boundaryEvent": "événement attaché", "intermediateCatchEvent": "événement intermédiaire"}


def kind_label(kind: str) -> str:
    """French name of a BPMN element type."""
    return _KIND.get(kind, "élément")

