"""The SpiffWorkflow internals the engine uses still exist and still do what engine/runtime/spiff_internals.py says.

These tests are the alarm for an upgrade of SpiffWorkflow: each helper is exercised on a real workflow, so a
renamed private attribute or a changed behaviour fails here, by name.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.runtime import spiff_internals

BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="internals" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:scriptTask id="check"><bpmn:script>assert not fail</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="wait" targetRef="report" />
    <bpmn:userTask id="report" />
    <bpmn:sequenceFlow id="f4" sourceRef="report" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def parsed(bpmn: bytes, process_id: str):
    """The spec of a process of `bpmn`, freshly parsed, and the specs of its subprocesses."""
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(bpmn)
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


@pytest.fixture
def workflow():
    """The workflow started with a failing script: its check task is in ERROR."""
    workflow = BpmnWorkflow(parsed(BPMN, "internals")[0])
    workflow.data["fail"] = True
    start = workflow.get_next_task(state=TaskState.READY)
    start.data["fail"] = True
    with pytest.raises(Exception):  # noqa: B017 - the engine's own error type changes between releases
        workflow.do_engine_steps()
    return workflow


def task_named(workflow, name):
    return next(task for task in workflow.get_tasks() if task.task_spec.name == name)


def test_the_installed_release_is_the_supported_line():
    assert spiff_internals.is_supported(), (
        f"SpiffWorkflow {spiff_internals.installed_version()} installé : engine/runtime/spiff_internals.py est écrit "
        f"pour la ligne {spiff_internals.SUPPORTED_LINE}x ; relisez chaque fonction avant de changer l'épinglage.")


def test_a_task_in_error_is_made_ready_and_runs_again(workflow):
    check = task_named(workflow, "check")
    assert check.state == TaskState.ERROR
    check.data["fail"] = False
    spiff_internals.make_ready(check)
    assert check.state == TaskState.READY
    workflow.do_engine_steps()
    assert check.state == TaskState.COMPLETED
    assert task_named(workflow, "wait").state == TaskState.WAITING


def test_an_armed_timer_gives_its_deadline(workflow):
    wait = task_named(workflow, "wait")
    assert spiff_internals.armed_timer_value(wait) is None, "not armed before it is reached"
    check = task_named(workflow, "check")
    check.data["fail"] = False
    spiff_internals.make_ready(check)
    workflow.do_engine_steps()
    value = spiff_internals.armed_timer_value(wait)
    assert isinstance(value, str) and value[:4].isdigit(), value


def test_parent_and_children_ids_describe_the_tree(workflow):
    check = task_named(workflow, "check")
    parent = check.parent
    assert spiff_internals.parent_id(check) == parent.id
    assert check.id in spiff_internals.child_ids(parent)
    assert spiff_internals.child_ids(check) == [child.id for child in check.children]


def test_a_task_is_spliced_out_of_the_tree(workflow):
    check = task_named(workflow, "check")
    parent, children = check.parent, spiff_internals.child_ids(check)
    spiff_internals.replace_child(parent, check.id, children)
    for child in check.children:
        spiff_internals.set_parent(child, parent.id)
    workflow.tasks.pop(check.id)
    assert [child.parent.id for child in parent.children if child.id in children] == [parent.id] * len(children)
    assert check.id not in spiff_internals.child_ids(parent)


def test_a_task_not_reached_is_removed_with_what_hangs_under_it(workflow):
    report = task_named(workflow, "report")
    below = [task.id for task in report.children]
    assert below and not report.has_state(TaskState.FINISHED_MASK)
    spiff_internals.remove_task(workflow, report.id)
    assert report.id not in workflow.tasks
    assert not any(task_id in workflow.tasks for task_id in below)


def test_an_armed_timer_is_moved_and_fires_at_its_new_deadline(workflow):
    check = task_named(workflow, "check")
    check.data["fail"] = False
    spiff_internals.make_ready(check)
    workflow.do_engine_steps()
    wait = task_named(workflow, "wait")
    with pytest.raises(ValueError):
        spiff_internals.move_timer(task_named(workflow, "report"), datetime.now(UTC))
    spiff_internals.move_timer(wait, datetime.now(UTC) + timedelta(days=3))
    assert datetime.fromisoformat(spiff_internals.armed_timer_value(wait)) > datetime.now(UTC) + timedelta(2)
    workflow.refresh_timers()
    assert wait.state == TaskState.WAITING, "a deadline moved later holds the timer"
    spiff_internals.move_timer(wait, datetime.now(UTC) - timedelta(seconds=1))
    workflow.refresh_timers()
    workflow.do_engine_steps()
    assert wait.state == TaskState.COMPLETED
    assert task_named(workflow, "report").state == TaskState.READY


CYCLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="cycle" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="month" />
    <bpmn:intermediateCatchEvent id="month">
      <bpmn:timerEventDefinition><bpmn:timeCycle>"R3/2030-01-31T09:00:00/P1M"</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="month" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_cycle_is_armed_with_its_count_and_next_occurrence_which_moves_alone():
    workflow = BpmnWorkflow(parsed(CYCLE, "cycle")[0])
    workflow.do_engine_steps()
    month = task_named(workflow, "month")
    value = spiff_internals.armed_timer_value(month)
    assert value["cycles"] == 3 and datetime.fromisoformat(value["next"]).day == 31
    spiff_internals.set_armed_timer_value(month, {**value, "mine": True})
    assert spiff_internals.armed_timer_value(month)["mine"] is True
    moved = datetime(2030, 2, 3, 8, 0, tzinfo=UTC)
    spiff_internals.move_timer(month, moved)
    value = spiff_internals.armed_timer_value(month)
    assert (value["cycles"], datetime.fromisoformat(value["next"])) == (3, moved), "the count stays"


def test_open_tasks_are_those_spiffworkflows_iterator_lists_in_its_order(runtime, session, monkeypatch):
    """Every look-up of ready or waiting tasks along a whole campaign (two places, subprocesses, timers), the
    engine steps' look-ups in each subprocess included."""
    from test_processes import accepted_project, run_volunteer_path

    walk, compared = spiff_internals.open_tasks, []

    def checked(workflow, state, manual=None):
        found = walk(workflow, state, manual)
        assert [task.id for task in found] == [task.id for task in workflow.get_tasks(state=state, manual=manual)]
        compared.append((state, len(found), bool(workflow.top_workflow.subprocesses), workflow.top_workflow is not workflow))
        return found

    monkeypatch.setattr(spiff_internals, "open_tasks", checked)
    instance = accepted_project(runtime, session, "brest", places=2)
    run_volunteer_path(runtime, session, instance.id, "brest", "Léa")

    assert {state for state, *_ in compared} == {TaskState.READY, TaskState.WAITING}
    # Several ready tasks at once (the two places), waiting timers, and workflows with subprocesses were seen.
    assert max(count for state, count, *_ in compared if state == TaskState.READY) >= 2
    assert any(count for state, count, *_ in compared if state == TaskState.WAITING)
    assert any(nested for _, _, nested, _ in compared)
    # The engine steps looked for ready tasks in a subprocess alone, and found some there.
    assert any(count for state, count, _, within in compared if within and state == TaskState.READY)


def test_open_tasks_mix_states_and_refuse_finished_ones(workflow):
    mixed = spiff_internals.open_tasks(workflow, TaskState.READY | TaskState.WAITING | TaskState.FUTURE)
    assert mixed
    assert [task.id for task in mixed] == [
        task.id for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.FUTURE)]
    with pytest.raises(ValueError):
        spiff_internals.open_tasks(workflow, TaskState.COMPLETED)


LOOPS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="loops" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="g1" sourceRef="start" targetRef="visits" />
    <bpmn:userTask id="visits" name="Visites">
      <bpmn:multiInstanceLoopCharacteristics isSequential="false">
        <bpmn:loopCardinality>2</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="g2" sourceRef="visits" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_instances_ended_unheard_by_their_multi_instance_task_are_found_and_merged():
    spec, _subprocess_specs = parsed(LOOPS, "loops")
    spiff_internals.link_loop_children(spec)
    workflow = BpmnWorkflow(spec)
    workflow.do_engine_steps()
    instances = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert len(instances) == 2 and spiff_internals.unmerged_instances(workflow) == []
    # What a process that parsed the spec without the link saw: the instances end, the loop task hears nothing.
    loop_spec = spec.task_specs["visits"]
    spec.task_specs[loop_spec.task_spec].completed_event.disconnect(loop_spec.merge_child)
    for instance in instances:
        instance.run()
    workflow.do_engine_steps()
    assert not workflow.completed
    assert spiff_internals.unmerged_instances(workflow) == instances
    assert spiff_internals.loop_name(instances[0]) == "Visites"
    for instance in instances:
        spiff_internals.merge_instance(instance)
    assert spiff_internals.unmerged_instances(workflow) == []
    workflow.do_engine_steps()
    assert workflow.completed


STEPS_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="s" targetNamespace="t">
  <bpmn:process id="steps" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="count" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="inner" />
    <bpmn:scriptTask id="count"><bpmn:script>counted = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f4" sourceRef="count" targetRef="join" />
    <bpmn:subProcess id="inner">
      <bpmn:startEvent id="inner_start" />
      <bpmn:sequenceFlow id="i1" sourceRef="inner_start" targetRef="weigh" />
      <bpmn:scriptTask id="weigh"><bpmn:script>weight = 2</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="i2" sourceRef="weigh" targetRef="heavy" />
      <bpmn:exclusiveGateway id="heavy" default="i4" />
      <bpmn:sequenceFlow id="i3" sourceRef="heavy" targetRef="note">
        <bpmn:conditionExpression>weight &gt; 1</bpmn:conditionExpression>
      </bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="i4" sourceRef="heavy" targetRef="inner_end" />
      <bpmn:scriptTask id="note"><bpmn:script>noted = weight * 10</bpmn:script></bpmn:scriptTask>
      <bpmn:sequenceFlow id="i5" sourceRef="note" targetRef="inner_end" />
      <bpmn:endEvent id="inner_end" />
    </bpmn:subProcess>
    <bpmn:sequenceFlow id="f5" sourceRef="inner" targetRef="join" />
    <bpmn:parallelGateway id="join" />
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="review" />
    <bpmn:userTask id="review" />
    <bpmn:sequenceFlow id="f7" sourceRef="review" targetRef="each" />
    <bpmn:scriptTask id="each">
      <bpmn:multiInstanceLoopCharacteristics isSequential="true">
        <bpmn:loopCardinality>3</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics>
      <bpmn:script>seen = True</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f8" sourceRef="each" targetRef="final" />
    <bpmn:userTask id="final" />
    <bpmn:sequenceFlow id="f9" sourceRef="final" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_the_engine_steps_leave_the_workflow_spiffworkflows_own_steps_leave():
    """Parallel branches, a subprocess with a gateway, a sequential multi-instance task: same tasks, same order."""
    spec, subprocess_specs = parsed(STEPS_BPMN, "steps")
    theirs, ours = BpmnWorkflow(spec, subprocess_specs), BpmnWorkflow(spec, subprocess_specs)

    def shape(workflow):
        return ([(task.task_spec.name, task.state) for task in workflow.get_tasks()], workflow.data,
                [task.data for task in workflow.get_tasks(state=TaskState.READY)], workflow.completed)

    stepped = []
    while True:
        theirs.do_engine_steps()
        spiff_internals.run_engine_steps(ours)
        assert shape(ours) == shape(theirs)
        ready = [workflow.get_next_task(state=TaskState.READY) for workflow in (theirs, ours)]
        if ready[0] is None:
            break
        stepped.append(ready[0].task_spec.name)
        for task in ready:
            task.run()
    assert stepped == ["review", "final"] and ours.completed
    assert ours.data["noted"] == 20 and ours.data["seen"] is True


def test_a_gateways_conditions_are_listed_and_other_specs_have_none():
    # The exclusive gateway of the steps' subprocess: one conditional flow, and a default one, which has none.
    inner = parsed(STEPS_BPMN, "steps")[1]["inner"]
    assert spiff_internals.gateway_conditions(inner.task_specs["heavy"]) == ["weight > 1"]
    assert spiff_internals.gateway_conditions(inner.task_specs["weigh"]) == []
