"""Files that do not parse, what SpiffWorkflow refuses, and diagrams missing a shape or an edge."""
from __future__ import annotations

import re
from collections.abc import Iterator

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.validation.engine_messages import french_engine_message, unknown_engine_message
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
            yield _unexpected(definitions, name, error, "engine.schema")
    for name in definitions.dmn:
        try:
            parser.add_dmn_str(definitions.texts[name].encode("utf-8"), filename=name)
        except ValidationException as error:
            yield _engine_problem(definitions, name, error, "engine.schema")
        except IndexError as error:  # the DMN parser looks for `dmn:decision` elements and finds none
            yield Problem("engine.schema", name, "le moteur ne trouve aucune décision dans ce fichier : il les attend "
                                                 "dans l'espace de noms DMN du fichier, sans préfixe ou sous le préfixe "
                                                 f"« dmn: » (détail du moteur : {type(error).__name__} : {error})")
        except Exception as error:  # the DMN parser raises bare errors on malformed tables
            yield _unexpected(definitions, name, error, "engine.schema")
    if len(readable) != len(definitions.bpmn):
        return
    for process_id in parser.get_process_ids():
        try:
            parser.get_spec(process_id)
            parser.get_subprocess_specs(process_id)
        except ValidationException as error:
            yield _engine_problem(definitions, error.file_name or definitions.process_file(process_id) or "?", error)
        except Exception as error:  # the library's own failures on odd diagrams become a readable problem
            yield _unexpected(definitions, definitions.process_file(process_id) or "?", error, "engine.parse")


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
    raw = str(error.args[0]) if error.args else str(error)
    said = french_engine_message(raw)
    if found is None and said is not None and said.subject is not None and root is not None:
        found = _subject(root, *said.subject)
        if found is not None:
            element_id, element_name, line = found.get("id"), found.get("name"), found.sourceline
    rule = said.rule or rule if said is not None else rule
    return Problem(rule, name, said.text if said is not None else _french(raw.split("\n")[0]), element_id,
                   element_name and " ".join(element_name.split()), line)


def _subject(root, tag: str, attribute: str, value: str):
    """The first element of a file with a local tag and an attribute worth `value` (spaces normalised).

    A data store is named on its declaration, which the diagram does not draw: the reference to it is the subject.
    """
    found = next((element for element in root.iter() if local(element) == tag
                  and " ".join((element.get(attribute) or "").split()) == value), None)
    if found is None and tag == "dataStoreReference":
        store = _subject(root, "dataStore", attribute, value)
        found = _subject(root, tag, "dataStoreRef", store.get("id", "")) if store is not None else None
        found = found if found is not None else store
    return found


def _unexpected(definitions: Definitions, name: str, error: Exception, rule: str) -> Problem:
    """A failure of the library with no known form: said in French, on the element it names if any."""
    raw = f"{type(error).__name__} : {error}"
    said = french_engine_message(str(error))
    if said is not None:
        return Problem(rule, name, said.text)
    spec, node = getattr(error, "task_spec", None), getattr(error, "node", None)
    element_id = getattr(spec, "bpmn_id", None) or (node.get("id") if node is not None else None)
    root = definitions.bpmn.get(name, definitions.dmn.get(name))
    found = next((e for e in root.iter() if e.get("id") == element_id), None) if root is not None else None
    return Problem(rule, name, f"erreur inattendue en lisant ce fichier : le moteur s'est arrêté sur une erreur "
                               f"interne (détail : {raw})", element_id or None,
                   found.get("name") if found is not None else None, found.sourceline if found is not None else None)


def _french(message: str) -> str:
    """The XML schema's messages, said in French where their form is known; the others as a detail."""
    if match := _NOT_EXPECTED.search(message):
        return f"l'élément « {match.group(1)} » n'est pas permis à cet endroit par le schéma BPMN 2.0"
    if "atomic type 'xs:ID'" in message:
        return ("un identifiant (id) doit commencer par une lettre ou « _ », sans espace ni caractère spécial "
                f"(détail du schéma : {_NAMESPACE.sub('', message)})")
    if match := _ATTRIBUTE.search(message):
        attribute, element, reason = _NAMESPACE.sub("", match.group(2)), match.group(1), match.group(3)
        if "is not allowed" in reason:
            return (f"l'attribut « {attribute} » n'existe pas sur « {element} » dans la norme BPMN 2.0 : "
                    "supprimez-le (il vient sans doute d'un autre outil)")
        if "is required but missing" in reason:
            return f"l'attribut « {attribute} » manque sur « {element} » : la norme BPMN 2.0 l'exige"
        return (f"la valeur de l'attribut « {attribute} » de « {element} » n'est pas permise par la norme BPMN 2.0 "
                f"(détail du schéma : {_NAMESPACE.sub('', reason)})")
    if match := _MISSING_CHILD.search(message):
        return f"il manque un élément dans « {match.group(1)} » (schéma BPMN 2.0)"
    return unknown_engine_message(message)


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
         "boundaryEvent": "événement attaché", "intermediateCatchEvent": "événement intermédiaire",
         "intermediateThrowEvent": "événement intermédiaire", "manualTask": "tâche manuelle", "task": "tâche",
         "sendTask": "tâche d'envoi", "receiveTask": "tâche de réception", "inclusiveGateway": "passerelle inclusive",
         "eventBasedGateway": "passerelle basée sur les événements", "complexGateway": "passerelle complexe",
         "transaction": "transaction", "adHocSubProcess": "sous-processus ad hoc"}


def kind_label(kind: str) -> str:
    """French name of a BPMN element type."""
    return _KIND.get(kind, "élément")

