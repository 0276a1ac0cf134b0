"""SpiffWorkflow's parser messages in French, with what to do and the element they speak of.

The engine says in English why it refuses a file (`Data Store with name … has
no implementation`, `The process 'x' was not found…`), often without naming an
element. Each known message is matched here and said in French; its raw text
follows only as a detail. `subject` tells which element of the file it is
about when the engine did not say: (local tag, attribute, value).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_CALLED = "calledElement"
_TIMER = ("la minuterie n'a ni date, ni durée, ni cycle : choisissez son type dans le modeleur et donnez son "
          "expression en Python (une durée entre guillemets, par exemple \"P1M\")")


@dataclass(frozen=True)
class EngineMessage:
    """An engine message said in French, and the element it concerns when the engine did not say."""

    text: str
    subject: tuple[str, str, str] | None = None
    # A refusal no other check makes (a called process missing) has a rule of its own: it is never an echo.
    rule: str | None = None


# (pattern, French text with the pattern's groups, how to find the element: (tag, attribute, group number)).
_KNOWN: tuple[tuple[re.Pattern[str], str, tuple[str, str, int] | None], ...] = (
    (re.compile(r"Data Store with name (.+?) has no implementation", re.S),
     "le magasin de données « {0} » ne s'exécute pas sur la plateforme : supprimez-le du diagramme et gardez les "
     "données dans les variables du dossier (champs des formulaires, résultats des tâches)",
     ("dataStoreReference", "name", 0)),
    (re.compile(r"Data Store (identifier|name) is missing from bpmn xml"),
     "un magasin de données n'a pas d'identifiant ou de nom ; de toute façon la plateforme ne les exécute pas : "
     "supprimez-le", None),
    (re.compile(r"The process '(.+?)' was not found\. Did you mean one of the following: (.*?)\?"),
     "le processus appelé « {0} » n'est dans aucun fichier déployé (processus connus : {1}) : déployez son fichier "
     "avec celui-ci, ou corrigez l'identifiant appelé (calledElement)", ("callActivity", _CALLED, 0)),
    (re.compile(r"Duplicate process ID: (.+)"),
     "le processus « {0} » est défini deux fois : chaque processus doit avoir un identifiant unique entre tous les "
     "fichiers", ("process", "id", 0)),
    (re.compile(r"Could not find messageRef from message event definition: (.+)"),
     "l'événement de message désigne un message qui n'est pas déclaré (« {0} ») : choisissez le message dans le "
     "modeleur", None),
    (re.compile(r"(Message|Signal|Error|Escalation|Correlation) identifier is missing from bpmn xml"),
     "un élément « {0} » déclaré dans le fichier n'a pas d'identifiant (id) : donnez-lui en un", None),
    (re.compile(r"Correlation is missing correlation property retrieval expressions: (.+)"),
     "la corrélation « {0} » ne dit pas où lire sa valeur dans le message", None),
    (re.compile(r"Message identifier is missing from correlation property: (.+)"),
     "la propriété de corrélation « {0} » ne désigne pas de message", None),
    (re.compile(r"There is no support implemented for this task type"),
     "ce type d'élément ne s'exécute pas dans le moteur : remplacez-le par un élément pris en charge (voir la liste "
     "du guide de l'analyste)", None),
    (re.compile(r"Process (.+?) is not executable"),
     "le processus « {0} » n'est pas marqué exécutable : cochez « Executable » dans le modeleur "
     "(isExecutable=\"true\")", ("process", "id", 0)),
    (re.compile(r"No start event found"), "aucun événement de début : ajoutez-en un", None),
    (re.compile(r"Sequential ordering for ad hoc subprocesses not supported"),
     "un sous-processus ad hoc en ordre séquentiel ne s'exécute pas : choisissez l'ordre parallèle, ou dessinez "
     "un sous-processus ordinaire", None),
    (re.compile(r"Ad hoc subprocesses may not contain start or end events"),
     "un sous-processus ad hoc ne contient ni début ni fin : retirez-les", None),
    (re.compile(r"Conditional event definition with missing condition"),
     "l'événement conditionnel n'a pas de condition : écrivez-la en Python", None),
    (re.compile(r"Unknown Time Specification"), _TIMER, None),
    (re.compile(r"Time Specification Error\.\s*(.*)", re.S),
     "l'expression de la minuterie ne se lit pas ; écrivez-la en Python, une durée ou une date ISO 8601 entre "
     "guillemets (par exemple \"P1M\" ou \"2027-09-01T09:00:00\")", None),
    (re.compile(r"Cannot resolve data(Input|Output)Association (.+)"),
     "l'association de données « {1} » ne désigne aucun objet de données de ce processus : redessinez-la dans le "
     "modeleur", None),
    (re.compile(r"Non-default exclusive outgoing sequence flow\s+without condition"),
     "un flux sortant de la passerelle n'a ni condition ni rôle de flux par défaut : donnez-lui une condition en "
     "Python, ou marquez-le comme flux par défaut", None),
    (re.compile(r"Exactly one start event is required in a SubWorkflow Task; found (\d+)"),
     "un sous-processus doit avoir exactement un événement de début simple (il en a {0})", None),
    (re.compile(r"A SubWorkflow Must contain an End event"),
     "le sous-processus n'a pas d'événement de fin : ajoutez-en un", None),
    (re.compile(r"No \"calledElement\" attribute for Call Activity"),
     "l'activité d'appel ne dit pas quel processus elle appelle : choisissez-le dans le modeleur (calledElement)",
     None),
    (re.compile(r"Invalid Script Task\.\s+No Script Provided"),
     "la tâche de script n'a pas de script : écrivez-le en Python, ou changez le type de la tâche", None),
    (re.compile(r"A Service Task must have an operator"),
     "la tâche de service ne nomme pas le traitement qu'elle appelle (spiffworkflow:serviceTaskOperator) : "
     "choisissez-le dans SpiffArena, ou changez le type de la tâche", None),
    (re.compile(r"No DMN Diagram available with id \"(.+?)\", Available DMN ids are: (.*)"),
     "la table de décision « {0} » n'existe pas (tables connues : {1})", None),
    (re.compile(r"No decisions found"), "le fichier DMN ne contient aucune décision", None),
    (re.compile(r"Multiple decision tables are not current supported"),
     "une décision ne contient qu'une table : séparez les tables en plusieurs décisions", None),
    (re.compile(r"Unknown type in decision table: (.+)"),
     "la table de décision contient un élément qui ne s'exécute pas ({0}) : gardez seulement entrées, sorties "
     "et règles", None),
    (re.compile(r"Malformed Output Expression '(.*?)'\.", re.S),
     "la sortie « {0} » ne se lit pas : les cellules s'écrivent en Python (un texte entre guillemets)", None),
    (re.compile(r"A multiinstance task must specify a cardinality or a loop input data reference"),
     "la tâche multi-instance ne dit ni combien de fois elle se répète (loopCardinality) ni sur quelle liste "
     "(loopDataInputRef) : donnez l'un des deux", None),
    (re.compile(r"A loopMaximum or loopCondition must be specified for Loop Tasks"),
     "la boucle n'a ni condition (loopCondition) ni nombre maximal de tours (loopMaximum) : donnez-lui une "
     "condition de sortie en Python", None),
    (re.compile(r"does not resolve to a\(n\) element declaration"),
     "le moteur ne lit pas ce fichier : il emploie une version ou une partie de la norme (diagramme DMN, DMNDI…) "
     "que le moteur ne connaît pas ; enregistrez-le depuis bpmn.io, Camunda Modeler ou SpiffArena", None),
    (re.compile(r"Undefined namespace prefix"),
     "le moteur ne trouve pas les éléments de ce fichier : il les attend dans l'espace de noms DMN du fichier, "
     "sans préfixe ou sous le préfixe « dmn: » ; enregistrez-le depuis bpmn.io, Camunda Modeler ou SpiffArena", None),
)


def french_engine_message(raw: str) -> EngineMessage | None:
    """The engine's message in French with its raw text as a detail, or None when its form is unknown."""
    for pattern, french, where in _KNOWN:
        if match := pattern.search(raw):
            groups = [" ".join(group.split()) if group else "" for group in match.groups()]
            subject = (where[0], where[1], groups[where[2]]) if where else None
            rule = "engine.call" if where is not None and where[1] == _CALLED else None
            return EngineMessage(f"{french.format(*groups)} (détail du moteur : {_clean(raw)})", subject, rule)
    return None


def unknown_engine_message(raw: str, what: str = "ce fichier") -> str:
    """A French sentence for an engine message of unknown form, the raw text as a detail."""
    return (f"le moteur SpiffWorkflow refuse {what} sans raison connue de la plateforme ; vérifiez l'élément "
            f"indiqué dans un modeleur (détail du moteur : {_clean(raw)})")


def _clean(raw: str) -> str:
    return " ".join(re.sub(r"\{[^}]*\}", "", raw).split()).rstrip(". ")
