"""Service tasks name a registered handler and give it the parameters it needs."""
from __future__ import annotations

from collections.abc import Iterator

import handlers
from engine.validation.model import NS, Definitions
from engine.validation.problems import WARNING, Problem
from handlers.catalog import describe

_OPERATOR = "spiffworkflow:serviceTaskOperator"


def check_service_tasks(definitions: Definitions) -> Iterator[Problem]:
    """Each service task names a known handler, gives every required parameter and no unknown one."""
    known = ", ".join(sorted(handlers.HANDLERS))
    for task in definitions.nodes("serviceTask"):
        operator = task.spiff(_OPERATOR)
        if operator is None or not operator.get("id"):
            yield Problem("handler.missing", task.file,
                          "la tâche de service ne nomme aucun gestionnaire (extension "
                          f"spiffworkflow:serviceTaskOperator) ; gestionnaires connus : {known}.",
                          task.id, task.name, task.line)
            continue
        name = operator.get("id")
        description = describe(name, handlers.HANDLERS.get(name))
        if name not in handlers.HANDLERS or description is None:
            yield Problem("handler.unknown", task.file,
                          f"le gestionnaire « {name} » n'existe pas ; gestionnaires connus : {known}.",
                          task.id, task.name, task.line)
            continue
        if task.id == name:
            yield Problem("handler.task_id", task.file,
                          f"l'identifiant de la tâche doit différer du nom de son gestionnaire : "
                          f"nommez-la « {name}_task ».", task.id, task.name, task.line)
        given = [p.get("id") for p in operator.iterfind("spiffworkflow:parameters/spiffworkflow:parameter", NS)]
        for missing in [p for p in description.parameters if p.required and p.name not in given]:
            what = f" ({missing.description})" if missing.description else ""
            yield Problem("handler.parameter", task.file,
                          f"il manque le paramètre « {missing.name} »{what}, dont le gestionnaire « {name} » a besoin.",
                          task.id, task.name, task.line)
        for unknown in [p for p in given if p not in description.accepted]:
            yield Problem("handler.parameter", task.file,
                          f"le gestionnaire « {name} » n'accepte pas le paramètre « {unknown} » ; il accepte : "
                          f"{', '.join(description.accepted) or 'aucun'}.", task.id, task.name, task.line)
        if not operator.get("resultVariable"):
            yield Problem("handler.result", task.file,
                          f"le résultat du gestionnaire « {name} » n'est rangé dans aucune variable "
                          "(resultVariable) : il sera perdu.", task.id, task.name, task.line, WARNING)
