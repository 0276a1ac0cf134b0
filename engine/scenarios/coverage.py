"""Scenario coverage: which tasks, gateway flows, decision rules and boundary values the scenarios exercised.

While a scenario plays (`ScenarioCoverage.watching`), every workflow the
runtime saves is walked before its history is compacted: tasks reached,
gateways completed and the branch each one took, business rule tasks run
(their table is evaluated again on the task's data to know which rule was
retained and with which input values). Tables evaluated outside a workflow,
as the project form does to check a quota, are seen through
`engine.runtime.decisions.DECISION_WATCHER`. The report counts, per process
and per table, what was covered out of what the files hold (see
`coverage_items`), and says in French what no scenario reached. Coverage is
information: it never fails a scenario.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine.runtime.decisions import DECISION_WATCHER
from engine.runtime.runtime import ProcessRuntime
from engine.runtime.store import InstanceStore, LoadedWorkflow
from engine.scenarios.coverage_items import Catalogue, Item, Section, read_catalogue
from engine.views.diagrams import DiagramView, diagram_sources

# A task was reached once it could run; FUTURE only says that it will be.
REACHED = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.COMPLETED | TaskState.ERROR
# The branch a gateway chose is created definite (FUTURE); the others are dropped, or only predicted.
CHOSEN = TaskState.FUTURE | REACHED


@dataclass(frozen=True)
class SectionReport:
    """One process or table: its items, and which were covered."""

    section: Section
    covered: frozenset[tuple]

    @property
    def total(self) -> int:
        """How many items the section has."""
        return len(self.section.items)

    @property
    def done(self) -> int:
        """How many of them some scenario covered."""
        return sum(1 for item in self.section.items if item.key in self.covered)

    @property
    def rows(self) -> list[tuple[Item, bool]]:
        """Each item with whether it was covered, in the order of the file."""
        return [(item, item.key in self.covered) for item in self.section.items]

    @property
    def missing(self) -> list[str]:
        """What no scenario reached, one French line each: « Table volunteer_quota, règle 2 (…) : jamais retenue »."""
        return [f"{self.section.prefix}, {item.missing}" for item, covered in self.rows if not covered]


@dataclass(frozen=True)
class CoverageReport:
    """The coverage of every process and table of a set of definition files."""

    sections: list[SectionReport]

    @property
    def total(self) -> int:
        """How many items there are to cover."""
        return sum(section.total for section in self.sections)

    @property
    def done(self) -> int:
        """How many were covered."""
        return sum(section.done for section in self.sections)

    @property
    def percent(self) -> int:
        """The covered share, rounded down (100 only when nothing is missing)."""
        return 100 if not self.total else self.done * 100 // self.total

    def summary(self) -> str:
        """The one-line French summary."""
        return (f"Couverture des scénarios : {self.done} élément{'s' if self.done > 1 else ''} sur {self.total} "
                f"({self.percent} %).")

    def lines(self) -> list[str]:
        """The report printed after the scenario results: the summary, each section, what it misses."""
        lines = [self.summary()]
        for section in self.sections:
            lines.append(f"  {section.section.title} : {section.done} sur {section.total}")
            lines += [f"    - {line}" for line in section.missing]
        return lines


class ScenarioCoverage:
    """Records what scenarios exercise, against the items of the definition files they run on."""

    def __init__(self, files: dict[str, str]):
        self.catalogue: Catalogue = read_catalogue(files)
        self.seen: set[tuple] = set()
        # Business rule tasks already evaluated again: a task is saved many times after it ran.
        self._decided: set[UUID] = set()

    @contextmanager
    def watching(self, runtime: ProcessRuntime) -> Iterator[None]:
        """Record what `runtime` runs inside the block, and the decision tables evaluated outside workflows."""
        runtime.instances = _ObservedStore(runtime.session, runtime.clock, self.observe)
        token = DECISION_WATCHER.set(self.decided)
        try:
            yield
        finally:
            DECISION_WATCHER.reset(token)

    def observe(self, workflow: BpmnWorkflow) -> None:
        """Record the tasks a workflow reached, the branches its gateways took and the rules its tables retained."""
        for process in [workflow, *workflow.subprocesses.values()]:
            owner = self.catalogue.owner(process.spec.name)
            for task in process.tasks.values():
                if not task.has_state(REACHED):
                    continue
                spec = task.task_spec
                self.seen.add(("task", owner, spec.bpmn_id))
                if not task.has_state(TaskState.COMPLETED):
                    continue
                for child in task.children:
                    target = child.task_spec.bpmn_id or child.task_spec.name.rsplit(".", 1)[0]
                    flow = self.catalogue.flows.get((owner, spec.bpmn_id, target))
                    # An event-based gateway creates a branch per event; the one that fired completes.
                    chosen = TaskState.COMPLETED if spec.__class__.__name__ == "EventBasedGateway" else CHOSEN
                    if flow is not None and child.has_state(chosen):
                        self.seen.add(("flow", owner, flow))
                engine = getattr(spec, "dmnEngine", None)
                if engine is not None and task.id not in self._decided:
                    self._decided.add(task.id)
                    self.decided(engine, task)

    def decided(self, engine: Any, task: Any) -> None:
        """Record the rules a decision table retains on a task's data, and the numbers its inputs read there.

        `engine` is SpiffWorkflow's `DMNEngine`; `task` anything with `data` and `workflow.script_engine`.
        """
        table = engine.decision_table
        decision = self.catalogue.decisions.get(table.id)
        if decision is None:
            return
        script_engine = task.workflow.script_engine
        try:
            for rule in engine.decide(task):
                self.seen.add(("rule", decision, rule.id))
        # The real evaluation already failed the same way, as an incident the scenario reports: nothing to count.
        except Exception:  # any failure of the analysts' cells
            pass
        for column in table.inputs:
            try:
                value = script_engine.evaluate(task, column.expression)
            except Exception:  # as above: a failing input is the scenario's to report
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                self.seen.add(("limit", decision, column.id, value))

    def report(self) -> CoverageReport:
        """What was covered so far, per process and table."""
        covered = frozenset(self.seen)
        return CoverageReport([SectionReport(section, covered) for section in self.catalogue.sections])


def coverage_views(report: CoverageReport, files: dict[str, str]) -> list[DiagramView]:
    """The drawing of each process with its coverage: tasks reached or not, branches taken or never taken."""
    sources = diagram_sources(files)
    views = []
    for section in report.sections:
        source = sources.get(section.section.ident)
        if section.section.kind != "processus" or source is None:
            continue
        view = DiagramView(section.section.ident, section.section.title, source,
                           markers={"sc-done": [], "sc-incident": [], "sc-path": []})
        for item, covered in section.rows:
            kind, element = item.key[0], item.key[2]
            if covered:
                view.markers["sc-done" if kind == "task" else "sc-path"].append(element)
                continue
            if kind == "task":
                view.markers["sc-incident"].append(element)
            view.overlays.append({"id": element, "kind": "incident", "text": item.verdict, "title": item.missing})
        views.append(view)
    return views


class _ObservedStore(InstanceStore):
    """The runtime's instance store, showing each workflow to the coverage before saving (and compacting) it."""

    def __init__(self, session, clock: Callable[[], datetime], observe: Callable[[BpmnWorkflow], None]):
        super().__init__(session, clock)
        self._observe = observe

    def save(self, loaded: LoadedWorkflow, instance, principal, completed=frozenset()) -> None:
        """Record what the workflow ran, then save it."""
        self._observe(loaded.workflow)
        super().save(loaded, instance, principal, completed)
