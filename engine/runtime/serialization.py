"""Engine state serialisation that leaves the process spec out of each instance, and saves by differences.

SpiffWorkflow's serializer embeds the whole parsed spec in every instance
(about 60 % of its JSON) and rebuilds it on every load. An instance never
changes version by itself, so its stored state holds only the spec's name and
the parsed spec of its deployment is attached again on load.

It also converts every task at each save, although a completion changes a
handful. `StateSerializer.changes` writes only the tasks whose signature
(state, time of its last change, place in the tree, internal data, data
object; for a live task, whose data may change in place, the data's content)
differs from what the stored state holds, with their children (a task's data
is stored as its difference from its parent's), the ids of the tasks that
went, and each process's own fields. The store appends
that line to the row's delta log (`engine.models.runtime.merge_state` folds
it back on load) and writes the full state again when the log outweighs it.

On load, SpiffWorkflow's registry walks every value of every task's data a
second time after the JSON parser built it, looking for typed values (dates,
UUIDs) to restore: with a full copy of the data in each task, that walk was
most of a load. Here the parser restores typed values itself (an `object_hook`)
and the task converter takes the parsed data as it is.
"""
from __future__ import annotations

import json
import math
import pickle
from collections.abc import Callable
from copy import copy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID
from weakref import WeakKeyDictionary

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.models.runtime import merge_state
from engine.runtime import spiff_internals

# Tasks whose data may change without their state changing: their signature holds the data's content.
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
# Signatures of a workflow's tasks, by process ("" for the top one, a subprocess by its task's id).
Signatures = dict[str, dict[UUID, tuple]]


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Converter storing the spec by name and restoring it from an already parsed bundle."""

    def __init__(self, target_class, registry, spec, subprocess_specs):
        super().__init__(target_class, registry)
        self.spec = spec
        self.subprocess_specs = subprocess_specs

    def to_dict(self, workflow):
        """Dictionary of the workflow's state, naming its spec instead of embedding it."""
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["spec"] = workflow.spec.name
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        """Rebuild a workflow from its state and the bundle's parsed spec."""
        if dct.get("spec") != self.spec.name:
            raise ValueError(f"État enregistré pour le processus {dct.get('spec')!r}, pas {self.spec.name!r}.")
        workflow = self.target_class(self.spec, self.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class ParsedDataTaskConverter(TaskConverter):
    """SpiffWorkflow's task converter, for a state whose typed values the JSON parser already restored.

    The same as SpiffWorkflow's `TaskConverter.from_dict`, less the second walk through the task's data.
    """

    def from_dict(self, dct, workflow):
        """Rebuild a task of `workflow`: its data is its parent's with the stored differences, or stored whole."""
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=_uuid(dct["id"]))
        task._parent = _uuid(dct["parent"]) if dct["parent"] is not None else None
        task._children = [_uuid(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = dct["internal_data"]
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        if delta and task.parent is not None:
            data = _copy_of(task.parent.data)
            data.update(delta.get("updates", {}))
            for key in delta.get("deletions", ()):
                data.pop(key, None)
        else:
            data = dct["data"]
        task.data = data
        return task


# Containers a task's data copy does not share with its parent's, as SpiffWorkflow's `DeepMerge.merge({}, data)`.
_COPIED = (dict, list, set)


def _copy_of(data: dict) -> dict:
    """A task's own copy of its parent's data: the mapping, and one level of its containers (as SpiffWorkflow's)."""
    return {key: copy(value) if isinstance(value, _COPIED) else value for key, value in data.items()}


@lru_cache(maxsize=8192)
def _uuid(text: str) -> UUID:
    """The UUID of a task id: each appears several times in a state (id, parent, children) and in every load."""
    return UUID(text)


def _typed_values_hook(registry) -> Callable[[dict], Any]:
    """JSON `object_hook` restoring the typed values of a state (dates, UUIDs, events) as they are parsed.

    Tasks and (sub)processes are left as dictionaries: their converters need the workflow being rebuilt, and
    restore them afterwards, parents first.
    """
    structural = {registry.typenames[cls] for cls in (Task, BpmnWorkflow, BpmnSubWorkflow)}
    converters = registry.convert_from_dict

    def restore(dct: dict) -> Any:
        typename = dct.get("typename")
        if typename is None or typename in structural or typename not in converters:
            return dct
        return registry.restore(dct)

    return restore


class StateSerializer:
    """Serialise and restore instances of one process of one deployment."""

    def __init__(self, spec, subprocess_specs):
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = lambda cls, registry: StateOnlyWorkflowConverter(
            cls, registry, spec, subprocess_specs
        )
        config[Task] = ParsedDataTaskConverter
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        self._parse = json.JSONDecoder(object_hook=_typed_values_hook(self._serializer.registry)).decode

    def dumps(self, workflow: BpmnWorkflow) -> str:
        """Return the workflow's state as JSON text."""
        return self._serializer.serialize_json(workflow)

    def loads(self, text: str, delta: str = "") -> BpmnWorkflow:
        """Restore a workflow from its full state and delta log; the caller must set its script engine again."""
        return self._serializer.from_dict(merge_state(self._parse(text), delta, self._parse))

    def changes(self, workflow: BpmnWorkflow, stored: Signatures, room: float = math.inf,
                whole: int = 0) -> tuple[str | None, Signatures]:
        """One line of the delta log taking the state whose signatures are `stored` to the workflow's.

        Returns the line (JSON, ending with a newline) and the workflow's signatures, which the stored state
        has once the line is committed. The line is None when the tasks to write, at the stored full state's
        average size per task (`whole` characters in all), would take more than `room` characters: the caller
        writes the full state then, and converting them would have been lost work.
        """
        registry = self._serializer.registry
        now = signatures(workflow)
        processes = _processes(workflow)
        to_write, gone = {}, {}
        for key, process in processes:
            before, current = stored.get(key, {}), now[key]
            changed = {task_id for task_id, mark in current.items() if before.get(task_id) != mark}
            to_write[key] = [task for task_id, task in process.tasks.items()
                             if task_id in changed or spiff_internals.parent_id(task) in changed]
            gone[key] = [str(task_id) for task_id in before if task_id not in current]
        tasks = sum(len(current) for current in now.values())
        if whole * sum(len(written) for written in to_write.values()) > room * tasks:
            return None, now
        parts = {}
        # The encoder mode leaves values the JSON encoder converts (dates, UUIDs) as they are, as a full save does.
        registry._encoder_mode = True
        try:
            for key, process in processes:
                parts[key] = {"meta": _process_fields(registry, process, top=key == ""),
                              "tasks": {str(task.id): registry.convert(task) for task in to_write[key]},
                              "gone": gone[key]}
            line = json.dumps({"procs": [key for key in now if key], "p": parts}, cls=self._serializer._encoder_cls)
        finally:
            registry._encoder_mode = False
        return line + "\n", now


@dataclass
class StoredState:
    """What an instance's stored state holds of a workflow: its tasks' signatures, and its size in characters."""

    signatures: Signatures
    full_chars: int
    delta_chars: int


# The stored state each workflow loaded or saved by the store stands for; a workflow built otherwise (started,
# migrated) has none and is written whole.
STORED: WeakKeyDictionary[BpmnWorkflow, StoredState] = WeakKeyDictionary()


def signatures(workflow: BpmnWorkflow) -> Signatures:
    """The signature of each task of a workflow and its subprocesses: what a change of the task changes."""
    return {key: {task_id: _signature(task) for task_id, task in process.tasks.items()}
            for key, process in _processes(workflow)}


def _signature(task) -> tuple:
    if task.has_state(LIVE):
        # A live task's data may change in place (a form, a script, an operator's correction): its content is
        # part of the signature.
        return (task.state, task.last_state_change, spiff_internals.parent_id(task),
                tuple(spiff_internals.child_ids(task)), task.triggered, _content(task.internal_data),
                _content(task.data))
    # A settled task's data is replaced, not changed in place: the object's identity and size tell. Its internal
    # data is most often empty (a timer's deadline, a gateway's marks otherwise).
    return (task.state, task.last_state_change, spiff_internals.parent_id(task), tuple(spiff_internals.child_ids(task)),
            task.triggered, repr(task.internal_data) if task.internal_data else None, id(task.data), len(task.data))


def _content(value: dict) -> bytes | str:
    """What a task's data holds, to tell whether it changed in place.

    Pickled: a change of any value, however deep, changes the bytes, and the C pickler is about twice as fast as
    `repr` on a dossier's data (each live task holds a full copy). A value the pickler refuses (a callable a
    script left behind, which the serializer drops anyway) falls back to `repr`.
    """
    try:
        return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return repr(value)


def _processes(workflow: BpmnWorkflow) -> list[tuple[str, Any]]:
    return [("", workflow), *((str(key), process) for key, process in workflow.subprocesses.items())]


def _process_fields(registry, process, top: bool) -> dict:
    """A process's own fields as SpiffWorkflow's converters write them, without its tasks."""
    fields = {
        "data": registry.convert(registry.clean(process.data)),
        "correlations": process.correlations,
        "last_task": str(process.last_task.id) if process.last_task is not None else None,
        "success": process.success,
        "completed": process.completed,
        "root": str(process.task_tree.id),
    }
    if top:
        fields["bpmn_events"] = registry.convert(process.bpmn_events)
    else:
        # A subprocess started since the full state was written is restored by its type name, like any other.
        fields["typename"] = registry.typenames[process.__class__]
        fields["parent_task_id"] = str(process.parent_task_id)
        fields["spec"] = process.spec.name
    return fields
