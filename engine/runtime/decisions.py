"""Evaluating a deployed DMN decision outside a workflow: the quota shown and checked before a project runs."""
from __future__ import annotations

import threading
from collections.abc import Callable
from contextvars import ContextVar
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from sqlalchemy.orm import Session

from engine.runtime.deployment import ProcessBundle, bundle_for, current_deployment
from engine.runtime.scripting import CampaignScriptEngine

# Keyed by the bundle object itself (one per deployment, kept by engine.runtime.deployment), held to keep its id unique.
_TABLES: dict[int, tuple[ProcessBundle, dict]] = {}
_LOCK = threading.Lock()
# Told of each table evaluated here (the engine and the task it reads), while scenarios measure their coverage.
DECISION_WATCHER: ContextVar[Callable[[Any, Any], None] | None] = ContextVar("decision_watcher", default=None)


class DecisionError(Exception):
    """No deployed decision has this id; the message is French.

    Not a `Refusal`: nothing a user asked for is declined; the deployed definitions lack a table the code needs.
    """


def _tables(bundle: ProcessBundle) -> dict:
    # Parsed once per deployment, like the process specs: deployments never change.
    cached = _TABLES.get(id(bundle))
    if cached is not None and cached[0] is bundle:
        return cached[1]
    with _LOCK:
        parser = SpiffBpmnParser()
        for name, text in bundle.files.items():
            if name.endswith(".dmn"):
                parser.add_dmn_str(text.encode("utf-8"), filename=name)
        tables = {decision_id: parser.get_engine(decision_id, None) for decision_id in parser.dmn_parsers}
        _TABLES[id(bundle)] = (bundle, tables)
    return tables


class BundleDecisions:
    """The decision tables of one deployment, evaluated with the restricted script engine."""

    def __init__(self, bundle: ProcessBundle):
        self.bundle = bundle

    def decide(self, decision_id: str, data: dict) -> dict:
        """Evaluate a decision on `data`; return its outputs by name (empty when no rule matches)."""
        table = _tables(self.bundle).get(decision_id)
        if table is None:
            raise DecisionError(f"Aucune table de décision « {decision_id} » n'est déployée.")
        # DMNEngine reads the data and the script engine from a task; nothing else of it.
        task = SimpleNamespace(data=data, workflow=SimpleNamespace(script_engine=CampaignScriptEngine()))
        watcher = DECISION_WATCHER.get()
        if watcher is not None:
            watcher(table, task)
        return table.result(task)


def volunteer_quota(session: Session, pupil_count: int | None) -> int | None:
    """Volunteers an establishment may host for a pupil count, by the deployed `volunteer_quota` table."""
    deployment = current_deployment(session)
    if deployment is None or pupil_count is None:
        return None
    outputs = BundleDecisions(bundle_for(deployment)).decide("volunteer_quota",
                                                             {"school_file": {"pupil_count": pupil_count}})
    return outputs.get("quota")
