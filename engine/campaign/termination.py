"""Ending a volunteer's mission early, from any point of its follow-up.

The référent or the gestionnaire fills the termination form (who ends it,
when, why); the platform sends the BPMN message `mission_termination` to the
follow-up of that one place. Its interrupting boundary event in
`follow_up.bpmn` cancels the pending follow-up tasks and timers, and the
process records the end and tells the gestionnaires.
"""
from __future__ import annotations

from datetime import date

from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from engine import forms
from engine.access import Forbidden, Principal, can_end_mission
from engine.errors import FormInvalid, NotFound, rolls_back
from engine.form_checks import validate
from engine.forms import Form
from engine.models import ProcessInstance, VolunteerMission
from engine.models.follow_up import TERMINATION_INITIATORS
from engine.runtime.deployment import bundle_for
from engine.runtime.runtime import ProcessRuntime
from handlers.formats import date_fr

TERMINATION_EVENT = "mission_termination"
TERMINATION_FORM = f"{forms.END_MISSION_FORM}.schema.json"
TERMINATION_UI = f"{forms.END_MISSION_FORM}.uischema.json"


def termination_form(instance: ProcessInstance) -> Form:
    """The early-termination form of the instance's deployed version."""
    schema = bundle_for(instance.deployment).form(TERMINATION_FORM)
    if schema is None:
        raise NotFound("Le formulaire de fin de mission n'est pas déployé.")
    return Form(schema=schema, ui=bundle_for(instance.deployment).form(TERMINATION_UI) or {})


def termination_problems(mission: VolunteerMission, data: dict) -> dict[str, list[str]]:
    """Business rule of an early termination: its date lies within the contract."""
    problems: dict[str, list[str]] = {}
    try:
        end = date.fromisoformat(data["end_date"])
    except (KeyError, ValueError):
        return problems
    if end < mission.start_date:
        problems["end_date"] = ["La fin de mission ne peut pas précéder son début "
                                f"(le {date_fr(mission.start_date)})."]
    elif end > mission.end_date:
        problems["end_date"] = ["Pour une fin anticipée, la date doit précéder la fin du contrat "
                                f"(le {date_fr(mission.end_date)})."]
    return problems


def termination_errors(instance: ProcessInstance, mission: VolunteerMission, data: dict) -> dict[str, list[str]]:
    """What is wrong in an early-termination form (French messages by field), before anything is done."""
    return validate(termination_form(instance), data) or termination_problems(mission, data)


@rolls_back
def end_mission(runtime: ProcessRuntime, mission: VolunteerMission, principal: Principal,
                data: dict) -> ProcessInstance:
    """End a mission early: check rights and the form, send the termination message to its follow-up, commit."""
    if not can_end_mission(principal, mission):
        raise Forbidden("Seuls le référent de l'établissement et le gestionnaire du contrat peuvent mettre fin "
                        "à cette mission.")
    if mission.status != "in_progress":
        raise FormInvalid({forms.FORM_LEVEL: ["Cette mission n'est plus en cours."]})
    instance = runtime.session.get_one(ProcessInstance, mission.instance_id)
    errors = termination_errors(instance, mission, data)
    if errors:
        raise FormInvalid(errors)

    def termination_event(workflow):
        for task in workflow.get_tasks(state=TaskState.WAITING):
            place = task.data.get("place", {}).get("number")
            if task.task_spec.bpmn_id == TERMINATION_EVENT and place == mission.place:
                return BpmnEvent(task.task_spec.event_definition, payload=data, target=task.workflow)
        return None

    how = TERMINATION_INITIATORS.get(data["initiator"], data["initiator"])
    return runtime.send_event(instance, termination_event, principal,
                              f"Fin anticipée de la mission de {mission.volunteer_name}, {how}", data)
