"""Every BPMN element type either runs on the platform or is refused, with the reason and what to draw instead.

`RUNS` lists the element types the platform executes (the guide and the tests
read it); `REFUSED` those it refuses whatever their settings. Events are judged
by their definition too: a catching event waits for something that must come
(a timer, an error, a message the platform or another element sends; link
events do not run in SpiffWorkflow 3.2), and a
script says in which language it is written.
"""
from __future__ import annotations

from collections.abc import Iterator

from engine.validation.model import NS, Definitions, Node, local
from engine.validation.problems import WARNING, Problem

RUNS = {
    "startEvent": "début (simple, minuterie ; message ou signal s'ils sont envoyés)",
    "endEvent": "fin (simple, arrêt, erreur, escalade, message, signal)",
    "intermediateCatchEvent": "attente (minuterie ; message ou signal s'ils sont envoyés)",
    "intermediateThrowEvent": "envoi (simple, message, signal, escalade)",
    "boundaryEvent": "événement attaché (minuterie, erreur, escalade, annulation ; message ou signal s'ils sont envoyés)",
    "userTask": "tâche utilisateur : un formulaire pour le rôle de son couloir",
    "manualTask": "tâche manuelle : un bouton « C'est fait » pour le rôle de son couloir",
    "task": "tâche sans type : traitée comme une tâche manuelle",
    "scriptTask": "tâche de script (Python)",
    "serviceTask": "tâche de service : un traitement Python enregistré (handlers/)",
    "businessRuleTask": "tâche de règle métier : une table de décision DMN",
    "sendTask": "envoi de message", "receiveTask": "réception de message (s'il est envoyé)",
    "callActivity": "activité d'appel d'un autre processus déployé",
    "subProcess": "sous-processus (et sous-processus d'événement)", "transaction": "transaction",
    "exclusiveGateway": "passerelle exclusive", "parallelGateway": "passerelle parallèle",
    "inclusiveGateway": "passerelle inclusive", "eventBasedGateway": "passerelle basée sur les événements",
}
REFUSED = {
    "complexGateway": "la passerelle complexe ne s'exécute pas dans le moteur : remplacez-la par une passerelle "
                      "inclusive ou exclusive avec des conditions en Python",
    "adHocSubProcess": "le sous-processus ad hoc n'est pas pris en charge par la plateforme (ses tâches "
                       "n'apparaîtraient pas dans les boîtes) : dessinez un sous-processus ordinaire",
    "dataStoreReference": "le magasin de données ne s'exécute pas sur la plateforme : supprimez-le et gardez les "
                          "données dans les variables du dossier (champs des formulaires, résultats des tâches)",
}
# Messages the platform itself sends to a waiting instance: the early end of a mission (engine/campaign/termination.py).
PLATFORM_MESSAGES = frozenset({"mission_termination"})
_CATCHING = ("startEvent", "intermediateCatchEvent", "boundaryEvent", "receiveTask")
_THROWING = ("endEvent", "intermediateThrowEvent", "sendTask")
_PYTHON = ("", "python", "text/python", "text/x-python", "python3")


def check_elements(definitions: Definitions) -> Iterator[Problem]:
    """Element types the platform refuses, events waiting for what never comes, scripts not in Python."""
    for name, root in definitions.bpmn.items():
        referenced = {element.get("dataStoreRef") for element in root.iter() if local(element) == "dataStoreReference"}
        for element in root.iter():
            kind = local(element)
            # A data store declared but never placed in a process is refused where it is declared.
            if kind in REFUSED or (kind == "dataStore" and element.get("id") not in referenced):
                yield _problem(name, element, f"{REFUSED.get(kind, REFUSED['dataStoreReference'])}.")
    sent = {event for node in definitions.nodes(*_THROWING) for event in _events(definitions, node)}
    sent |= {("message", message) for message in PLATFORM_MESSAGES}
    caught = {event for node in definitions.nodes(*_CATCHING) for event in _events(definitions, node)}
    for node in definitions.nodes(*_CATCHING):
        yield from _catching_problems(node)
        for kind, event in _events(definitions, node):
            if (kind, event) not in sent:
                yield Problem("element.never_sent", node.file, _never_sent(kind, event), node.id, node.name, node.line)
    for node in definitions.nodes(*_THROWING):
        if node.kind == "intermediateThrowEvent":
            yield from _catching_problems(node)
        for kind, event in _events(definitions, node):
            if (kind, event) not in caught:
                what = "le message" if kind == "message" else "le signal"
                yield Problem("element.unheard", node.file, f"{what} « {event} » n'est attendu par aucun élément des "
                                                            "processus déployés : il sera perdu.",
                              node.id, node.name, node.line, WARNING)
    for node in definitions.nodes("scriptTask"):
        if not is_python_script(node):
            yield Problem("element.script_language", node.file,
                          f"le script est écrit en « {node.element.get('scriptFormat')} » : la plateforme n'exécute "
                          "que du Python. Réécrivez-le en Python et retirez le format (scriptFormat).",
                          node.id, node.name, node.line)


def is_python_script(node: Node) -> bool:
    """Whether a script task is written in Python (no `scriptFormat`, or a Python one)."""
    return (node.element.get("scriptFormat") or "").strip().lower() in _PYTHON


def _catching_problems(node: Node) -> Iterator[Problem]:
    """Event definitions the engine does not run (links, conditions, compensation)."""
    kinds = {local(child) for child in node.element}
    if "linkEventDefinition" in kinds:
        yield Problem("element.refused", node.file,
                      "les événements de lien ne s'exécutent pas dans le moteur : le chemin s'arrêterait là. "
                      "Reliez les deux parties du diagramme par un flux.", node.id, node.name, node.line)
    if "conditionalEventDefinition" in kinds:
        yield Problem("element.refused", node.file,
                      "l'événement conditionnel ne s'exécute pas de façon sûre : le moteur n'évalue sa condition que "
                      "sur les données de sa branche, et une variable encore absente met le dossier en incident. "
                      "Remplacez-le par une passerelle exclusive placée après l'étape qui change la donnée.",
                      node.id, node.name, node.line)
    if "compensateEventDefinition" in kinds:
        yield Problem("element.refused", node.file,
                      "la compensation n'est pas exécutée par le moteur : l'événement ne se déclencherait jamais. "
                      "Dessinez l'annulation comme un chemin ordinaire (passerelle, puis tâches qui défont).",
                      node.id, node.name, node.line)


def _never_sent(kind: str, event: str) -> str:
    if not event:
        what, ref = ("message", "messageRef") if kind == "message" else ("signal", "signalRef")
        return (f"l'événement attend un {what} sans dire lequel ({ref} absent) : il attendrait pour toujours. "
                f"Choisissez le {what} dans le modeleur, ou remplacez l'attente par une tâche.")
    if kind == "message":
        platform = ", ".join(f"« {message} »" for message in sorted(PLATFORM_MESSAGES))
        return (f"rien n'envoie le message « {event} » : aucun élément des processus déployés ne le lance, et la "
                f"plateforme n'envoie que {platform} ; cet élément attendrait pour toujours. Faites-le envoyer par "
                "un élément d'un processus, ou remplacez l'attente par une tâche.")
    return (f"rien n'envoie le signal « {event} » : aucun élément des processus déployés ne le lance, et la "
            "plateforme n'envoie pas de signaux ; cet élément attendrait pour toujours. Faites-le lancer par un "
            "élément d'un processus, ou remplacez l'attente par une tâche.")


def _events(definitions: Definitions, node: Node) -> Iterator[tuple[str, str]]:
    """("message" | "signal", name) for each message or signal an event or a send/receive task names."""
    for definition in node.element:
        if local(definition) == "messageEventDefinition":
            yield "message", _declared(definitions, "message", definition.get("messageRef"))
        elif local(definition) == "signalEventDefinition":
            yield "signal", _declared(definitions, "signal", definition.get("signalRef"))
    if node.kind in ("sendTask", "receiveTask") and node.element.get("messageRef"):
        yield "message", _declared(definitions, "message", node.element.get("messageRef"))


def _declared(definitions: Definitions, tag: str, ref: str | None) -> str:
    """Name of the message or signal declared with id `ref` in some file; the reference itself otherwise."""
    for root in definitions.bpmn.values():
        for element in root.iterfind(f"bpmn:{tag}", NS):
            if element.get("id") == ref:
                return " ".join((element.get("name") or ref or "").split())
    return ref or ""


def _problem(file: str, element, message: str) -> Problem:
    name = " ".join((element.get("name") or "").split()) or None
    return Problem("element.refused", file, message, element.get("id"), name, element.sourceline)
