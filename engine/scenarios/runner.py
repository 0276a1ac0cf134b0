"""Playing a scenario against the real engine, handlers included, and explaining the first divergence."""
from __future__ import annotations

import base64
import json
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.access import Forbidden, Principal, can_act, can_end_mission, can_start
from engine.campaign.termination import end_mission
from engine.forms import FORM_LEVEL
from engine.models import (
    Document,
    Establishment,
    Person,
    ProcessInstance,
    Structure,
    TaskRow,
    Timer,
    VolunteerMission,
)
from engine.models.runtime import INSTANCE_STATUSES
from engine.runtime.catalogue import current_catalogue
from engine.runtime.runtime import Conflict, FormInvalid, NotFound, ProcessRuntime, RuntimeSettings, StartRefused
from engine.runtime.timers import find_task
from engine.scenarios.spec import Expectation, Scenario, ScenarioError, Step
from engine.scenarios.world import Copy, set_the_scene
from handlers.formats import plural

if TYPE_CHECKING:
    from engine.scenarios.coverage import ScenarioCoverage

# A file field in a scenario: `{file: contrat-signe.pdf}` sends this small valid PDF under that name.
_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
_MAX_TIMER_FIRINGS = 500


class Divergence(Exception):
    """What the scenario expected and what the platform did instead, in French.

    Not a `Refusal`: it is a scenario's verdict; the refusals the platform raised are what it compares.
    """


@dataclass
class Outcome:
    """The result of one scenario: passed, or the first divergence and where it happened."""

    path: Path
    name: str
    passed: bool
    explanation: str = ""

    def report(self) -> str:
        """The lines printed for this scenario."""
        head = f"{'PASS' if self.passed else 'ÉCHEC'}  {self.name} ({self.path.name})"
        return head if self.passed else f"{head}\n      {self.explanation}"


class SettableClock:
    """The platform's clock during a scenario or the demo story: a moment that the player moves forward."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


class ScenarioRun:
    """One scenario played on its own copy of the platform."""

    def __init__(self, scenario: Scenario, copy: Copy, session: Session):
        self.scenario = scenario
        self.session = session
        self.clock = SettableClock(scenario.clock)
        self.runtime = ProcessRuntime(session, RuntimeSettings(copy.storage_dir), clock=self.clock)
        # Set by `_start`, before any step.
        self.instance: ProcessInstance
        self._principals: list[tuple[str, Principal]] | None = None

    def play(self) -> None:
        """Start, play every step and check the end; raise `Divergence` at the first difference."""
        self._start()
        for step in self.scenario.steps:
            try:
                self._play(step)
                self._check(step.expect, final=False)
            except Divergence as divergence:
                raise Divergence(f"{step.label} : {divergence}") from divergence
        try:
            self._check(self.scenario.end, final=True)
        except Divergence as divergence:
            raise Divergence(f"à la fin : {divergence}") from divergence

    def _start(self) -> None:
        scenario, session = self.scenario, self.session
        campaign = set_the_scene(session, scenario.clock, scenario.campaign)
        establishment = structure = None
        if scenario.establishment:
            establishment = session.scalar(select(Establishment).where(Establishment.uai == scenario.establishment))
            if establishment is None:
                raise Divergence(f"au départ : aucun établissement n'a l'UAI « {scenario.establishment} ».")
            for name, value in scenario.school_file.items():
                if name in ("id", "uai") or not hasattr(Establishment, name):
                    raise Divergence(f"au départ : « {name} » n'est pas un champ modifiable de la fiche établissement.")
                setattr(establishment, name, value)
        if scenario.structure:
            structure = session.scalar(select(Structure).where(Structure.code == scenario.structure))
            if structure is None:
                raise Divergence(f"au départ : aucune structure n'a le code « {scenario.structure} ».")
        session.commit()
        principal: Principal | None
        if scenario.starter:
            principal = self._principal(scenario.starter)
        else:
            entry = current_catalogue(session).entry(scenario.process)
            principal = next((p for _login, p in self._everyone()
                              if can_start(p, entry, establishment, structure)), None)
        try:
            self.instance = self.runtime.start(scenario.process, principal, establishment=establishment,
                                               structure=structure, campaign=scenario.campaign or campaign.school_year)
        except StartRefused as error:
            raise Divergence(f"au départ : {error}") from error
        self._no_unexpected_incident(None)

    def _play(self, step: Step) -> None:
        if step.wait_until is not None:
            self._wait(step.wait_until)
        elif step.end_mission is not None:
            self._end_mission(step)
        else:
            self._complete(step)
        self.session.refresh(self.instance)
        self._no_unexpected_incident(step)

    def _complete(self, step: Step) -> None:
        row = self._ready_row(step)
        login, principal = (step.actor, self._principal(step.actor)) if step.actor else self._allowed(row)
        data = _with_files(step.data)
        try:
            self.runtime.complete(row.id, principal, data)
        except FormInvalid as invalid:
            if step.refused is None:
                raise Divergence(f"la saisie de {login} est refusée : {_errors(invalid.errors)}.") from invalid
            _check_refusal(step.refused, invalid.errors)
            return
        except Forbidden as error:
            raise Divergence(f"{login} ne peut pas faire cette tâche : {error}") from error
        except (Conflict, NotFound) as error:
            raise Divergence(str(error)) from error
        if step.refused is not None:
            raise Divergence("la saisie devait être refusée, mais elle a été acceptée.")

    def _wait(self, moment: datetime) -> None:
        self.clock.moment = moment
        for _ in range(_MAX_TIMER_FIRINGS):
            # Only the task id is read: firing deletes and rewrites timer rows, which must not sit in the session.
            task_id = self.session.scalar(select(Timer.task_id).where(
                Timer.instance_id == self.instance.id, Timer.due_at <= moment).order_by(Timer.due_at, Timer.id))
            if task_id is None:
                return
            self.runtime.fire_timers(self.instance, task_id)
            self.session.refresh(self.instance)
        raise Divergence(f"plus de {_MAX_TIMER_FIRINGS} échéances à déclencher : une minuterie tourne en boucle.")

    def _end_mission(self, step: Step) -> None:
        mission = self.session.scalar(select(VolunteerMission).where(
            VolunteerMission.instance_id == self.instance.id, VolunteerMission.place == step.end_mission))
        if mission is None:
            raise Divergence(f"aucune mission n'est suivie pour la place {step.end_mission}.")
        if step.actor:
            login, principal = step.actor, self._principal(step.actor)
        else:
            found = next(((login, p) for login, p in self._everyone() if can_end_mission(p, mission)), None)
            if found is None:
                raise Divergence(f"personne ne peut mettre fin à la mission de la place {step.end_mission}.")
            login, principal = found
        try:
            end_mission(self.runtime, mission, principal, _with_files(step.data))
        except FormInvalid as invalid:
            if step.refused is None:
                raise Divergence(f"la fin anticipée est refusée : {_errors(invalid.errors)}.") from invalid
            _check_refusal(step.refused, invalid.errors)
        except Forbidden as error:
            raise Divergence(f"{login} ne peut pas mettre fin à la mission : {error}") from error

    def _ready_row(self, step: Step) -> TaskRow:
        query = select(TaskRow).where(TaskRow.instance_id == self.instance.id, TaskRow.state == "ready",
                                      TaskRow.spec_id == step.task)
        if step.place is not None:
            query = query.where(TaskRow.place == step.place)
        row = self.session.scalar(query.order_by(TaskRow.place, TaskRow.created_at, TaskRow.id))
        if row is not None:
            return row
        expected = f"« {step.task} »" + (f" de la place {step.place}" if step.place is not None else "")
        if self.instance.status in ("completed", "refused", "terminated"):
            raise Divergence(f"la tâche attendue {expected} n'est plus à faire : le dossier est "
                             f"{_status(self.instance)}.")
        raise Divergence(f"la tâche attendue {expected} n'est pas à faire ; à faire : {self._ready_text()}.")

    def _ready_text(self) -> str:
        rows = self._ready_rows()
        if not rows:
            return "aucune tâche"
        return ", ".join(f"{r.spec_id} « {r.title} » ({r.lane}"
                         + (f", place {r.place})" if r.place is not None else ")") for r in rows)

    def _ready_rows(self) -> list[TaskRow]:
        return list(self.session.scalars(select(TaskRow).where(
            TaskRow.instance_id == self.instance.id, TaskRow.state == "ready")
            .order_by(TaskRow.place, TaskRow.created_at, TaskRow.id)))

    def _no_unexpected_incident(self, step: Step | None) -> None:
        if self.instance.status != "incident":
            return
        last = step is (self.scenario.steps[-1] if self.scenario.steps else None)
        if (step is not None and step.expect.status == "incident") or (last and self.scenario.end.status == "incident"):
            return
        raise Divergence(f"le dossier est passé en incident : {self.instance.incident}")

    def _check(self, expectation: Expectation, final: bool) -> None:
        instance = self.instance
        if expectation.status is not None and instance.status != expectation.status:
            raise Divergence(f"le dossier est {_status(instance)} au lieu de « "
                             f"{INSTANCE_STATUSES.get(expectation.status, expectation.status)} ».")
        if expectation.event is not None and instance.outcome != expectation.event:
            if instance.outcome is None:
                raise Divergence(f"l'événement de fin « {expectation.event} » n'est pas atteint : le dossier est "
                                 f"{_status(instance)} ; à faire : {self._ready_text()}.")
            raise Divergence(f"le dossier s'est terminé par « {instance.outcome} » au lieu de « {expectation.event} » "
                             f"({_status(instance)} ; à faire : {self._ready_text()}).")
        if expectation.tasks is not None:
            ready = sorted(r.spec_id for r in self._ready_rows())
            if ready != sorted(expectation.tasks):
                wanted = ", ".join(sorted(expectation.tasks)) or "aucune tâche"
                raise Divergence(f"les tâches à faire sont : {self._ready_text()} ; attendu : {wanted}.")
        if expectation.variables:
            self._check_variables(expectation.variables)
        for kind, count in expectation.documents.items():
            found = self.session.scalar(select(func.count()).select_from(Document).where(
                Document.instance_id == instance.id, Document.kind == kind))
            if (count is None and not found) or (count is not None and found != count):
                kinds = sorted(set(self.session.scalars(select(Document.kind).where(
                    Document.instance_id == instance.id))))
                wanted = "d'au moins un" if count is None else f"de {count}"
                raise Divergence(f"{plural(found or 0, 'document')} « {kind} » au lieu {wanted} (documents produits : "
                                 f"{', '.join(kinds) or 'aucun'}).")
        if final and expectation.empty and instance.status == "running" and not self._ready_rows():
            raise Divergence("le dossier attend encore (une échéance, un message) sans tâche à faire.")

    def _check_variables(self, expected: dict) -> None:
        data = self._variables()
        for path, wanted in expected.items():
            found, value = _lookup(data, str(path))
            if not found:
                raise Divergence(f"la variable « {path} » n'existe pas (variables : {', '.join(sorted(data))}).")
            if value != wanted:
                raise Divergence(f"la variable « {path} » vaut {_json(value)} au lieu de {_json(wanted)}.")

    def _variables(self) -> dict:
        """The instance data: at the end, the workflow's; while running, that of the next task to do."""
        workflow = self.runtime.load(self.instance, for_change=False).workflow
        if workflow.completed:
            return dict(workflow.data)
        rows = self._ready_rows()
        task = find_task(workflow, rows[0].id) if rows else None
        return dict(task.data) if task is not None else dict(workflow.data)

    def _everyone(self) -> list[tuple[str, Principal]]:
        if self._principals is None:
            people = self.session.scalars(select(Person).order_by(Person.login))
            self._principals = [(person.login, Principal.of(person)) for person in people]
        return self._principals

    def _principal(self, login: str) -> Principal:
        found = next((p for known, p in self._everyone() if known == login), None)
        if found is None:
            raise Divergence(f"personne n'a l'identifiant « {login} » dans l'annuaire de démonstration.")
        return found

    def _allowed(self, row: TaskRow) -> tuple[str, Principal]:
        found = next(((login, p) for login, p in self._everyone() if can_act(p, row)), None)
        if found is None:
            raise Divergence(f"personne ne peut faire la tâche « {row.spec_id} » (couloir {row.lane}).")
        return found


def run_scenario(scenario: Scenario, copy: Copy, coverage: ScenarioCoverage | None = None) -> Outcome:
    """Play one scenario on a copy of the platform; record what it exercises in `coverage` if given."""
    with copy.sessions() as session:
        run = ScenarioRun(scenario, copy, session)
        try:
            with coverage.watching(run.runtime) if coverage is not None else nullcontext():
                run.play()
        except Divergence as divergence:
            return Outcome(scenario.path, scenario.name, False, str(divergence))
        except ScenarioError as error:
            return Outcome(scenario.path, scenario.name, False, f"scénario illisible : {error}")
        except Exception as error:  # a failure of the platform itself: said in the report, never as a traceback
            session.rollback()
            return Outcome(scenario.path, scenario.name, False,
                           f"erreur inattendue de la plateforme pendant le scénario (détail : {type(error).__name__} : "
                           f"{error}) ; signalez-la à l'équipe technique avec le scénario et les fichiers.")
    return Outcome(scenario.path, scenario.name, True)


def _with_files(data: dict) -> dict:
    """Submitted data with `{file: name.pdf}` values turned into the data URLs a form's file field receives."""
    result = {}
    for name, value in data.items():
        if isinstance(value, dict) and set(value) == {"file"}:
            encoded = base64.b64encode(_PDF).decode()
            value = f"data:application/pdf;name={value['file']};base64,{encoded}"
        result[name] = value
    return result


def _errors(errors: dict[str, list[str]]) -> str:
    """Refusal messages by field, as one French sentence without its final period (the caller ends it)."""
    return " ; ".join(f"{'formulaire' if field == FORM_LEVEL else f'champ « {field} »'} : {' '.join(messages)}"
                      for field, messages in errors.items()).rstrip(".")


def _check_refusal(expected: dict[str, str], errors: dict[str, list[str]]) -> None:
    for field, text in expected.items():
        key = FORM_LEVEL if field in ("formulaire", FORM_LEVEL) else field
        messages = " ".join(errors.get(key, []))
        if text not in messages:
            said = f"« {messages} »" if messages else "aucun message"
            where = "le formulaire" if key == FORM_LEVEL else f"le champ « {field} »"
            raise Divergence(f"la saisie est bien refusée, mais pour {where} on attendait un message contenant "
                             f"« {text} » et on lit {said} (refus : {_errors(errors)}).")


def _status(instance: ProcessInstance) -> str:
    label = INSTANCE_STATUSES.get(instance.status, instance.status)
    if instance.outcome:
        return f"« {label} » (fin « {instance.outcome} »)"
    if instance.incident:
        return f"« {label} » ({instance.incident})"
    return f"« {label} »"


def _lookup(data, path: str) -> tuple[bool, object]:
    value = data
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
