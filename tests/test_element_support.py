"""The element types the validator lets through run in the engine; those it refuses are refused by the validator.

Each small process below uses one kind of element; it is validated, then run to its end in memory the way the
platform runs instances (engine steps, people's tasks completed: with their form, or « C'est fait »).
"""
from __future__ import annotations

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.runtime.tasks import has_form
from engine.validation import validate_files

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/'
        'MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="x">'
        '<bpmn:message id="m_ping" name="ping" /><bpmn:escalation id="e_late" name="late" escalationCode="late" />'
        '<bpmn:error id="e_broken" name="broken" errorCode="broken" />'
        '<bpmn:process id="p" isExecutable="true">')
TAIL = "</bpmn:process></bpmn:definitions>"


def flow(source: str, target: str, condition: str | None = None) -> str:
    """A sequence flow, with a Python condition if given."""
    expression = (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
                  if condition else "")
    return f'<bpmn:sequenceFlow id="f_{source}_{target}" sourceRef="{source}" targetRef="{target}">{expression}' \
           "</bpmn:sequenceFlow>"


def chain(*steps: str) -> str:
    """Start → each element given (id:xml) → end, joined by flows."""
    ids = ["start", *[step.split(":", 1)[0] for step in steps], "end"]
    body = ['<bpmn:startEvent id="start" />', *[step.split(":", 1)[1] for step in steps], '<bpmn:endEvent id="end" />']
    return "".join(body) + "".join(flow(a, b) for a, b in zip(ids, ids[1:], strict=False))


PROCESSES = {
    "task": chain('t:<bpmn:task id="t" />'),
    "manualTask": chain('m:<bpmn:manualTask id="m" />'),
    "scriptTask": chain('s:<bpmn:scriptTask id="s"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>'),
    "inclusiveGateway": ('<bpmn:startEvent id="start" /><bpmn:inclusiveGateway id="split" default="f_split_b" />'
                         '<bpmn:task id="a" /><bpmn:task id="b" /><bpmn:inclusiveGateway id="join" />'
                         '<bpmn:endEvent id="end" />' + flow("start", "split") + flow("split", "a", "True")
                         + flow("split", "b") + flow("a", "join") + flow("b", "join") + flow("join", "end")),
    "parallelGateway": ('<bpmn:startEvent id="start" /><bpmn:parallelGateway id="split" /><bpmn:task id="a" />'
                        '<bpmn:task id="b" /><bpmn:parallelGateway id="join" /><bpmn:endEvent id="end" />'
                        + flow("start", "split") + flow("split", "a") + flow("split", "b") + flow("a", "join")
                        + flow("b", "join") + flow("join", "end")),
    "send and receive": ('<bpmn:startEvent id="start" /><bpmn:parallelGateway id="split" />'
                         '<bpmn:receiveTask id="wait" messageRef="m_ping" /><bpmn:task id="before" />'
                         '<bpmn:sendTask id="send" messageRef="m_ping" /><bpmn:parallelGateway id="join" />'
                         '<bpmn:endEvent id="end" />' + flow("start", "split") + flow("split", "wait")
                         + flow("split", "before") + flow("before", "send") + flow("wait", "join")
                         + flow("send", "join") + flow("join", "end")),
    "transaction and error": (
        '<bpmn:startEvent id="start" /><bpmn:transaction id="sub"><bpmn:startEvent id="sub_start" />'
        '<bpmn:endEvent id="fail"><bpmn:errorEventDefinition errorRef="e_broken" /></bpmn:endEvent>'
        + flow("sub_start", "fail") + '</bpmn:transaction><bpmn:boundaryEvent id="caught" attachedToRef="sub">'
        '<bpmn:errorEventDefinition errorRef="e_broken" /></bpmn:boundaryEvent><bpmn:manualTask id="repair" />'
        '<bpmn:endEvent id="end" /><bpmn:endEvent id="end_repaired" />' + flow("start", "sub") + flow("sub", "end")
        + flow("caught", "repair") + flow("repair", "end_repaired")),
    "subProcess and escalation": (
        '<bpmn:startEvent id="start" /><bpmn:subProcess id="sub"><bpmn:startEvent id="sub_start" />'
        '<bpmn:intermediateThrowEvent id="raise"><bpmn:escalationEventDefinition escalationRef="e_late" />'
        '</bpmn:intermediateThrowEvent><bpmn:endEvent id="sub_end" />' + flow("sub_start", "raise")
        + flow("raise", "sub_end") + '</bpmn:subProcess><bpmn:boundaryEvent id="caught" attachedToRef="sub" '
        'cancelActivity="true"><bpmn:escalationEventDefinition escalationRef="e_late" /></bpmn:boundaryEvent>'
        '<bpmn:task id="handle" /><bpmn:endEvent id="end" /><bpmn:endEvent id="end_late" />'
        + flow("start", "sub") + flow("sub", "end") + flow("caught", "handle") + flow("handle", "end_late")),
}


def run(text: str) -> BpmnWorkflow:
    """Run a process to its end as the platform does: engine steps, then each person's task, form or not."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(text.encode("utf-8"), filename="p.bpmn")
    workflow = BpmnWorkflow(parser.get_spec("p"), parser.get_subprocess_specs("p"))
    workflow.do_engine_steps()
    for _ in range(20):
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        if task is None:
            break
        if has_form(task.task_spec):
            task.task_spec.add_data_from_form(task, {})
        task.run()
        workflow.do_engine_steps()
    return workflow


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_an_element_the_validator_accepts_runs_to_the_end(name):
    text = HEAD + PROCESSES[name] + TAIL
    refused = [p for p in validate_files({"processes/p.bpmn": text}).problems if p.rule.startswith(("element.",
                                                                                                    "engine."))]
    assert refused == []
    workflow = run(text)
    assert workflow.completed and workflow.success


@pytest.mark.parametrize("element,rule", [
    ('<bpmn:complexGateway id="c" />', "element.refused"),
    ('<bpmn:adHocSubProcess id="c"><bpmn:task id="inside" /></bpmn:adHocSubProcess>', "element.refused"),
    ('<bpmn:intermediateCatchEvent id="c"><bpmn:conditionalEventDefinition><bpmn:condition '
     'xsi:type="bpmn:tFormalExpression">x == 1</bpmn:condition></bpmn:conditionalEventDefinition>'
     '</bpmn:intermediateCatchEvent>', "element.refused"),
    ('<bpmn:intermediateCatchEvent id="c"><bpmn:messageEventDefinition messageRef="m_ping" />'
     '</bpmn:intermediateCatchEvent>', "element.never_sent"),
    ('<bpmn:receiveTask id="c" messageRef="m_ping" />', "element.never_sent"),
    # SpiffWorkflow 3.2 reads a link event as a plain one: the path would stop at the throwing event.
    ('<bpmn:intermediateThrowEvent id="c"><bpmn:linkEventDefinition name="next" /></bpmn:intermediateThrowEvent>',
     "element.refused"),
])
def test_an_element_that_cannot_run_is_refused(element, rule):
    text = HEAD + chain(f"c:{element}") + TAIL
    found = [(p.rule, p.element_id) for p in validate_files({"processes/p.bpmn": text}).problems]
    assert (rule, "c") in found
