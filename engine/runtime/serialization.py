"""Engine state serialisation that leaves the process spec out of each instance.

SpiffWorkflow's serializer embeds the whole parsed spec in every instance
(about 60 % of its JSON) and rebuilds it on every load. An instance never
changes version by itself, so its stored state holds only the spec's name and
the parsed spec of its deployment is attached again on load.
"""
from __future__ import annotations

import json
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


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


class StateSerializer:
    """Serialise and restore instances of one process of one deployment."""

    def __init__(self, spec, subprocess_specs):
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = lambda cls, registry: StateOnlyWorkflowConverter(
            cls, registry, spec, subprocess_specs
        )
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))

    def dumps(self, workflow: BpmnWorkflow) -> str:
        """Return the workflow's state as JSON text."""
        return self._serializer.serialize_json(workflow)

    def loads(self, text: str) -> BpmnWorkflow:
        """Restore a workflow; the caller must set its script engine again."""
        return self._serializer.from_dict(json.loads(text))
