"""The process catalogue declared on each `bpmn:process`: known properties, roles, subjects and values.

See `engine.runtime.catalogue` for what the properties mean. A value the
platform does not know would silently make a process impossible (or too easy)
to start: each one is an error naming the file, the process and what is
possible. Two processes competing to be the campaign's dossier of each school
get a warning saying which one the platform follows.
"""
from __future__ import annotations

from collections.abc import Iterator

from engine.runtime.catalogue import BOOLEANS, NS, PROPERTIES, ROLES, SUBJECTS, entry_of, role_list
from engine.validation.model import Definitions
from engine.validation.problems import ERROR, WARNING, Problem

_PROPERTY = "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"


def check_catalogue(definitions: Definitions) -> Iterator[Problem]:
    """Each process declares only known catalogue properties, with known roles, subjects and booleans."""
    campaign_processes: list[tuple[str, str, str | None]] = []
    for file, root in definitions.bpmn.items():
        for process in root.iterfind("bpmn:process", NS):
            process_id, name = process.get("id", ""), process.get("name")

            def problem(message: str, line: int | None, severity: str = ERROR, where=(file, process_id, name)) -> Problem:
                return Problem("catalogue.property", where[0], message, where[1], where[2], line, severity)

            for prop in process.iterfind(_PROPERTY, NS):
                key, value, line = prop.get("name") or "", (prop.get("value") or "").strip(), prop.sourceline
                if key not in PROPERTIES:
                    yield problem(f"Propriété « {key} » inconnue sur un processus ; propriétés possibles : "
                                  f"{', '.join(PROPERTIES)}.", line)
                elif key == "startableBy":
                    roles = role_list(value)
                    if not roles:
                        yield problem("Propriété startableBy vide : retirez-la (le processus n'est alors démarré "
                                      f"que par un autre) ou nommez des rôles parmi : {', '.join(ROLES)}.", line)
                    for role in (role for role in roles if role not in ROLES):
                        yield problem(f"Propriété startableBy : rôle « {role} » inconnu ; rôles possibles : "
                                      f"{', '.join(ROLES)}.", line)
                elif key == "subject" and value not in SUBJECTS:
                    yield problem(f"Propriété subject : valeur « {value} » inconnue ; valeurs possibles : "
                                  f"{', '.join(SUBJECTS)}.", line)
                elif key == "campaign" and value not in BOOLEANS:
                    yield problem(f"Propriété campaign : valeur « {value} » inconnue ; valeurs possibles : "
                                  "true, false.", line)
                elif key == "startLabel" and not value:
                    yield problem("Propriété startLabel vide : retirez-la (le bouton reprend alors le nom du "
                                  "processus) ou donnez le texte du bouton.", line, WARNING)
            entry = entry_of(process)
            if entry.startable and entry.campaign and entry.subject == "establishment":
                campaign_processes.append((process_id, file, name))
    if len(campaign_processes) > 1:
        followed, *others = sorted(campaign_processes)
        for process_id, file, name in others:
            yield Problem("catalogue.campaign_process", file,
                          f"deux processus démarrables de campagne par établissement : la page d'accueil, les "
                          f"fiches des établissements et l'entonnoir des campagnes suivent « {followed[0]} » ; "
                          "celui-ci se démarre aussi, une fois par établissement et campagne.",
                          process_id, name, None, WARNING)
