"""Loading an engine state: the parser restores typed values, and the workflow is SpiffWorkflow's own."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.models import InstanceState
from engine.models.runtime import merge_state
from engine.runtime.deployment import bundle_for
from engine.runtime.serialization import StateOnlyWorkflowConverter

from test_processes import accepted_project, run_volunteer_path


def stock_loads(bundle, process_id: str, full: str, delta: str) -> BpmnWorkflow:
    """The same state restored by SpiffWorkflow's own converters, which walk the parsed data again."""
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = lambda cls, registry: StateOnlyWorkflowConverter(
        cls, registry, bundle.specs[process_id], bundle.subprocess_specs[process_id])
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
    return serializer.from_dict(merge_state(json.loads(full), delta))


def all_tasks(workflow: BpmnWorkflow) -> dict:
    """Every task of a workflow and its subprocesses, by id."""
    tasks = dict(workflow.tasks)
    for process in workflow.subprocesses.values():
        tasks.update(process.tasks)
    return tasks


def test_a_campaign_state_loads_as_with_spiffworkflows_own_converters(runtime, session):
    instance = accepted_project(runtime, session, "brest", places=2)
    run_volunteer_path(runtime, session, instance.id, "brest", "Léa")
    session.refresh(instance)
    stored = session.get(InstanceState, instance.id)
    assert stored.delta, "the state should hold a delta log to fold in"
    bundle = bundle_for(instance.deployment)
    ours = bundle.serializers[instance.process_id].loads(stored.state, stored.delta)
    theirs = stock_loads(bundle, instance.process_id, stored.state, stored.delta)

    ours_tasks, their_tasks = all_tasks(ours), all_tasks(theirs)
    assert ours_tasks.keys() == their_tasks.keys()
    assert len(ours_tasks) > 30
    for task_id, task in ours_tasks.items():
        other = their_tasks[task_id]
        assert (task.state, task.task_spec.name, task._parent, task._children, task.internal_data, task.data) == (
            other.state, other.task_spec.name, other._parent, other._children, other.internal_data, other.data)
    # Each task owns its data: changing one task's data leaves its parent's as it was.
    child = next(task for task in ours_tasks.values() if task.parent is not None and task.parent.data)
    child.data["marque"] = "changée"
    assert "marque" not in child.parent.data


def test_typed_values_in_task_data_come_back_typed(runtime, session):
    instance = accepted_project(runtime, session, "rennes")
    bundle = bundle_for(instance.deployment)
    serializer = bundle.serializers[instance.process_id]
    stored = session.get(InstanceState, instance.id)
    workflow = serializer.loads(stored.state, stored.delta)
    task = next(iter(workflow.get_tasks()))
    moment, wait, ref = datetime(2027, 3, 1, 9, 30), timedelta(days=3, seconds=7), UUID(int=42)
    task.data["rendez_vous"] = {"quand": moment, "délai": wait, "liste": [moment, {"ref": ref}]}
    task.data["jour"] = date(2027, 3, 1).isoformat()
    task.internal_data["échéance"] = moment

    loaded = serializer.loads(serializer.dumps(workflow))
    again = loaded.get_task_from_id(task.id)
    assert again.data["rendez_vous"] == {"quand": moment, "délai": wait, "liste": [moment, {"ref": ref}]}
    assert isinstance(again.data["rendez_vous"]["liste"][1]["ref"], UUID)
    assert again.data["jour"] == "2027-03-01"
    assert again.internal_data["échéance"] == moment
    # The same values restored by SpiffWorkflow's own converters.
    theirs = stock_loads(bundle, instance.process_id, serializer.dumps(workflow), "").get_task_from_id(task.id)
    assert theirs.data == again.data
