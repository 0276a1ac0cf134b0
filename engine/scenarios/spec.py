"""Scenario files: what an analyst writes in `processes/scenarios/*.yaml`, read and checked in French.

```yaml
name: Projet accepté, un volontaire
continues: other.yaml       # optional: play that scenario's start and steps first
process: hosting_project
start:                      # starting data
  establishment: 0350781J   # UAI of a demo school (or `structure: UDOGEC-35` for a training)
  date: 2027-03-15          # the platform's clock (default: 15 March 2027, 10:00)
  school_file: {pupil_count: 350}   # changes to the school's file before the start
steps:
  - task: design_project    # the task expected next
    as: referent.rennes     # who does it (default: the first person allowed)
    data: {...}             # what is submitted
    refused: {title: "…"}   # the submission must be refused with these messages
    expect: {tasks: [review_project], variables: {quota: 1}}
  - wait_until: 2028-01-31  # move the clock and fire the timers then due
end:
  event: campaign_closed    # the end event reached
  status: completed
  variables: {quota: 1, review.decision: accept}
  documents: [contract]     # kinds of documents produced (or {contract: 2})
  tasks: []                 # tasks left to do when the scenario stops before the end
```
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import yaml

from handlers.formats import datetime_fr

DEFAULT_CLOCK = datetime(2027, 3, 15, 10, 0)
STATUSES = ("running", "completed", "refused", "terminated", "incident")
_SCENARIO_KEYS = {"name", "description", "continues", "process", "start", "steps", "end"}
_START_KEYS = {"as", "establishment", "structure", "campaign", "date", "school_file"}
_STEP_KEYS = {"task", "as", "place", "data", "refused", "expect", "description", "wait_until", "end_mission"}
_EXPECT_KEYS = {"event", "status", "variables", "documents", "tasks"}


class ScenarioError(Exception):
    """A scenario file cannot be read; the message says where and why, in French.

    Not a `Refusal`: analysts meet it on the command line, as a failed scenario, never as a request declined.
    """


@dataclass
class Expectation:
    """What must hold at a point of a scenario (after a step, or at the end)."""

    event: str | None = None
    status: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, int | None] = field(default_factory=dict)
    tasks: list[str] | None = None

    @property
    def empty(self) -> bool:
        """Whether nothing is expected."""
        return (self.event is None and self.status is None and not self.variables and not self.documents
                and self.tasks is None)


@dataclass
class Step:
    """One step: a task done with submitted data, time passing, or a mission ended early."""

    number: int
    task: str | None = None
    actor: str | None = None
    place: int | None = None
    data: dict = field(default_factory=dict)
    refused: dict[str, str] | None = None
    expect: Expectation = field(default_factory=Expectation)
    wait_until: datetime | None = None
    end_mission: int | None = None

    @property
    def label(self) -> str:
        """How the report names the step."""
        if self.wait_until is not None:
            return f"étape {self.number} (attente jusqu'au {datetime_fr(self.wait_until)})"
        if self.end_mission is not None:
            return f"étape {self.number} (fin anticipée de la mission de la place {self.end_mission})"
        return f"étape {self.number} ({self.task})"


@dataclass
class Scenario:
    """A scenario file, read."""

    path: Path
    name: str
    process: str
    establishment: str | None = None
    structure: str | None = None
    campaign: str | None = None
    clock: datetime = DEFAULT_CLOCK
    starter: str | None = None
    school_file: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    end: Expectation = field(default_factory=Expectation)


def load_scenario(path: Path, _seen: tuple[Path, ...] = ()) -> Scenario:
    """Read and check a scenario file; raise `ScenarioError` with a French message.

    `continues: <file>` plays the steps of another scenario of the same folder first (its start too, unless
    this one gives its own), without checking its end: a volunteer's path continues an accepted project.
    """
    if path.resolve() in _seen:
        raise ScenarioError(f"« continues » tourne en rond : {path.name} se continue lui-même.")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (ligne {mark.line + 1})" if mark is not None else ""
        raise ScenarioError(f"le fichier n'est pas du YAML lisible{where} : vérifiez l'indentation, les deux-points "
                            f"et les crochets (détail : {getattr(error, 'problem', None) or error}).") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"le fichier ne se lit pas : {error}") from error
    if not isinstance(document, dict):
        raise ScenarioError("le scénario doit être un dictionnaire (name, process, start, steps, end).")
    _only(document, _SCENARIO_KEYS, "le scénario")
    earlier = None
    if document.get("continues"):
        try:
            earlier = load_scenario(path.parent / str(document["continues"]), (*_seen, path.resolve()))
        except ScenarioError as error:
            raise ScenarioError(f"le scénario continué « {document['continues']} » : {error}") from error
    for key in ("name", "steps") if earlier else ("name", "process", "steps"):
        if not document.get(key):
            raise ScenarioError(f"la clé « {key} » manque.")
    if earlier is not None and "start" not in document:
        return _continued(path, document, earlier)
    start = document.get("start") or {}
    if not isinstance(start, dict):
        raise ScenarioError("« start » doit être un dictionnaire.")
    _only(start, _START_KEYS, "« start »")
    school_file = start.get("school_file") or {}
    if not isinstance(school_file, dict):
        raise ScenarioError("« start.school_file » doit être un dictionnaire de champs de la fiche.")
    if not isinstance(document["steps"], list):
        raise ScenarioError("« steps » doit être une liste d'étapes.")
    scenario = Scenario(
        path=path, name=str(document["name"]),
        process=str(document["process"] if earlier is None else document.get("process") or earlier.process),
        establishment=_text(start.get("establishment")), structure=_text(start.get("structure")),
        campaign=_text(start.get("campaign")),
        clock=_moment(start["date"], "start.date") if start.get("date") else DEFAULT_CLOCK,
        starter=_text(start.get("as")), school_file=plain(school_file),
        steps=[_step(number, raw) for number, raw in enumerate(document["steps"], start=1)],
        end=_expectation(document.get("end") or {}, "end"),
    )
    if earlier is not None:
        scenario.steps = _renumbered(earlier.steps, scenario.steps)
    return scenario


def _continued(path: Path, document: dict, earlier: Scenario) -> Scenario:
    """A scenario that starts where another one left off: its start, its steps, then these."""
    if not isinstance(document["steps"], list):
        raise ScenarioError("« steps » doit être une liste d'étapes.")
    own = [_step(number, raw) for number, raw in enumerate(document["steps"], start=1)]
    return Scenario(path=path, name=str(document["name"]), process=str(document.get("process") or earlier.process),
                    establishment=earlier.establishment, structure=earlier.structure, campaign=earlier.campaign,
                    clock=earlier.clock, starter=earlier.starter, school_file=earlier.school_file,
                    steps=_renumbered(earlier.steps, own), end=_expectation(document.get("end") or {}, "end"))


def _renumbered(earlier: list[Step], own: list[Step]) -> list[Step]:
    """The steps of a continued scenario, then this one's, numbered on from them."""
    for offset, step in enumerate(own, start=len(earlier) + 1):
        step.number = offset
    return [*earlier, *own]


def _step(number: int, raw) -> Step:
    where = f"l'étape {number}"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where} doit être un dictionnaire (task, data…).")
    _only(raw, _STEP_KEYS, where)
    kinds = [key for key in ("task", "wait_until", "end_mission") if raw.get(key) is not None]
    if len(kinds) != 1:
        raise ScenarioError(f"{where} doit avoir exactement une des clés task, wait_until ou end_mission.")
    data = raw.get("data") or {}
    if not isinstance(data, dict):
        raise ScenarioError(f"« data » de {where} doit être un dictionnaire de champs du formulaire.")
    refused = raw.get("refused")
    if refused is not None and refused is not True and not isinstance(refused, dict):
        raise ScenarioError(f"« refused » de {where} doit être true ou un dictionnaire champ → message attendu.")
    place = raw.get("place")
    if place is not None and not isinstance(place, int):
        raise ScenarioError(f"« place » de {where} doit être un numéro de place.")
    end_mission = raw.get("end_mission")
    if end_mission is not None and not isinstance(end_mission, int):
        raise ScenarioError(f"« end_mission » de {where} doit être le numéro de la place.")
    return Step(
        number=number, task=_text(raw.get("task")), actor=_text(raw.get("as")), place=place, data=plain(data),
        refused={} if refused is True else ({str(k): str(v) for k, v in refused.items()} if refused else None),
        expect=_expectation(raw.get("expect") or {}, f"« expect » de {where}"),
        wait_until=_moment(raw["wait_until"], where) if raw.get("wait_until") is not None else None,
        end_mission=end_mission,
    )


def _expectation(raw, where: str) -> Expectation:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where} doit être un dictionnaire (event, status, variables, documents, tasks).")
    _only(raw, _EXPECT_KEYS, where)
    status = _text(raw.get("status"))
    if status is not None and status not in STATUSES:
        raise ScenarioError(f"« status » de {where} doit être l'un de : {', '.join(STATUSES)}.")
    variables = raw.get("variables") or {}
    if not isinstance(variables, dict):
        raise ScenarioError(f"« variables » de {where} doit être un dictionnaire nom → valeur attendue.")
    documents = raw.get("documents") or {}
    if isinstance(documents, list):
        documents = {str(kind): None for kind in documents}
    elif not isinstance(documents, dict):
        raise ScenarioError(f"« documents » de {where} doit être une liste de types, ou type → nombre.")
    tasks = raw.get("tasks")
    if tasks is not None and not isinstance(tasks, list):
        raise ScenarioError(f"« tasks » de {where} doit être la liste des tâches à faire.")
    return Expectation(event=_text(raw.get("event")), status=status, variables=plain(variables),
                       documents={str(k): v for k, v in documents.items()},
                       tasks=[str(t) for t in tasks] if tasks is not None else None)


def _only(raw: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise ScenarioError(f"{where} a des clés inconnues : {', '.join(unknown)} "
                            f"(clés possibles : {', '.join(sorted(allowed))}).")


def _text(value) -> str | None:
    return None if value is None else str(value)


def _moment(value, where: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time(10, 0))
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as error:
        raise ScenarioError(f"date illisible dans {where} : « {value} » (attendu : AAAA-MM-JJ).") from error


def plain(value):
    """YAML values as a form receives them: dates as ISO texts (YAML reads 2027-09-13 as a date)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
