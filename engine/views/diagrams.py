"""What the diagram pages show: the BPMN file of a process as deployed, and what to highlight on it.

The browser draws the deployed XML with bpmn-js and only adds the markers and
overlays computed here, by element id. Any valid BPMN 2.0 file with its
diagram (BPMNDI) works, whatever modeler saved it: the file is read as the
deployment stored it, and elements are found by their ids.

- On an instance: the path already taken (done elements and the flows between
  them), the current tokens, and incidents, each with its date.
- On a version: a heat map, how many tasks wait at each element and for how
  long, and the incidents there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree
from SpiffWorkflow.util.task import TaskState

from handlers.formats import date_fr

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
NS = {"bpmn": BPMN, "bpmndi": BPMNDI}
FLOW_NODES = {
    "task": "Tâche", "userTask": "Tâche utilisateur", "serviceTask": "Tâche de service", "scriptTask": "Script",
    "businessRuleTask": "Règle de décision", "sendTask": "Envoi", "receiveTask": "Réception",
    "manualTask": "Tâche manuelle", "callActivity": "Sous-processus appelé", "subProcess": "Sous-processus",
    "transaction": "Transaction", "adHocSubProcess": "Sous-processus ad hoc", "startEvent": "Début",
    "endEvent": "Fin", "intermediateCatchEvent": "Événement attendu", "intermediateThrowEvent": "Événement émis",
    "boundaryEvent": "Événement attaché", "exclusiveGateway": "Branchement exclusif",
    "parallelGateway": "Branchement parallèle", "inclusiveGateway": "Branchement inclusif",
    "eventBasedGateway": "Branchement sur événement", "complexGateway": "Branchement complexe",
}
STATE_LABELS = {"incident": "En incident", "current": "En cours", "done": "Fait"}
HEAT_LEVELS = 5


@dataclass
class FlowNode:
    """An element of a process drawn on the diagram."""

    id: str
    name: str
    kind: str
    called: str | None = None

    @property
    def kind_label(self) -> str:
        """Kind of element, in French."""
        return FLOW_NODES.get(self.kind, self.kind)


@dataclass
class DiagramSource:
    """The BPMN file holding a process, the diagram to open in it, and its elements and flows."""

    filename: str
    xml: str
    process_id: str
    diagram_id: str | None
    nodes: dict[str, FlowNode] = field(default_factory=dict)
    flows: list[tuple[str, str, str]] = field(default_factory=list)


def _local(element) -> str:
    return etree.QName(element).localname


def diagram_sources(files: dict[str, str]) -> dict[str, DiagramSource]:
    """Every process of the deployed BPMN files, by process id, with its file and diagram."""
    found: dict[str, DiagramSource] = {}
    for filename, text in sorted(files.items()):
        if not filename.endswith(".bpmn"):
            continue
        root = etree.fromstring(text.encode("utf-8"))
        for process in root.iterfind("bpmn:process", NS):
            process_id = process.get("id")
            source = DiagramSource(filename, text, process_id, _diagram_id(root, process_id))
            for element in process.iter(f"{{{BPMN}}}*"):
                kind = _local(element)
                if kind in FLOW_NODES and element.get("id"):
                    source.nodes[element.get("id")] = FlowNode(
                        element.get("id"), element.get("name") or element.get("id"), kind, element.get("calledElement"))
                elif kind == "sequenceFlow" and element.get("id"):
                    source.flows.append((element.get("id"), element.get("sourceRef"), element.get("targetRef")))
            found.setdefault(process_id, source)
    return found


def _diagram_id(root, process_id: str) -> str | None:
    """The BPMNDiagram whose plane shows the process, directly or through a collaboration's participant."""
    owners = {process_id}
    for collaboration in root.iterfind("bpmn:collaboration", NS):
        if any(p.get("processRef") == process_id for p in collaboration.iterfind("bpmn:participant", NS)):
            owners.add(collaboration.get("id"))
    for diagram in root.iterfind("bpmndi:BPMNDiagram", NS):
        plane = diagram.find("bpmndi:BPMNPlane", NS)
        if plane is not None and plane.get("bpmnElement") in owners:
            return diagram.get("id")
    return None


@dataclass
class NodeLine:
    """One element in the plain list shown beside (or instead of) the drawing."""

    node: FlowNode
    state: str
    detail: str


@dataclass
class DiagramView:
    """One drawing: its source, the markers per element and the overlays, and the same as a plain list."""

    key: str
    title: str
    source: DiagramSource
    markers: dict[str, list[str]] = field(default_factory=dict)
    overlays: list[dict] = field(default_factory=list)
    lines: list[NodeLine] = field(default_factory=list)

    def payload(self) -> dict:
        """What diagram.js receives: the XML, the diagram to open, markers and overlays."""
        return {"xml": self.source.xml, "diagram": self.source.diagram_id, "markers": self.markers,
                "overlays": self.overlays}


def _day(moment: datetime) -> str:
    # Badges on the diagram are narrow: the short numeric form; their titles and the text list read in words.
    return moment.strftime("%d/%m/%Y")


def _changed_at(task) -> datetime | None:
    stamp = getattr(task, "last_state_change", None)
    return datetime.fromtimestamp(stamp) if stamp else None


@dataclass
class TaskDates:
    """What the task table knows of an instance's user tasks: their dates, and the completions the engine
    no longer holds (it keeps only the recent part of long histories)."""

    dates: dict[str, datetime | None] = field(default_factory=dict)
    done: list[tuple[str, str, str, int | None, datetime | None]] = field(default_factory=list)


def instance_views(workflow, files: dict[str, str], process_names: dict[str, str], table: TaskDates,
                   incident_node: str | None, incident_at: datetime | None) -> list[DiagramView]:
    """The drawings of an instance: its process, then each called process it entered (one per call)."""
    sources = diagram_sources(files)
    views: dict[object, DiagramView] = {}
    states: dict[object, dict[str, tuple[str, datetime | None]]] = {}
    taken: dict[object, set[tuple[str, str]]] = {}
    in_tree: set[str] = set()
    for process in [workflow, *workflow.subprocesses.values()]:
        owner = _drawn_in(workflow, process, sources)
        if owner not in views:
            source = sources.get(owner.spec.name)
            if source is None:
                continue
            number = _place(owner) if owner is not workflow else None
            title = process_names.get(owner.spec.name, owner.spec.name)
            views[owner] = DiagramView(f"d{len(views) + 1}", f"{title} — place {number}" if number else title, source)
            states[owner], taken[owner] = {}, set()
        for task in process.tasks.values():
            in_tree.add(str(task.id))
            # An incident is dated by the instance's last change: when the failure was saved.
            known = table.dates.get(str(task.id)) or (incident_at if task.has_state(TaskState.ERROR) else None)
            if _note(states[owner], task, known):
                taken[owner].update(_arrival(task))
    for task_id, process_id, spec_id, place, completed_at in table.done:
        if task_id in in_tree:
            continue
        owner = next((o for o, v in views.items() if v.source.process_id == process_id
                      and (place is None or _place(o) == place)), None)
        if owner is not None and spec_id not in states[owner]:
            states[owner][spec_id] = ("done", completed_at)
    if incident_node and ":" in incident_node:
        process_id, node_id = incident_node.split(":", 1)
        for owner, view in views.items():
            if view.source.process_id == process_id and not any(s == "incident" for s, _ in states[owner].values()):
                states[owner][node_id] = ("incident", incident_at)
                break
    for owner, view in views.items():
        _fill_instance_view(view, states[owner], taken[owner])
    return list(views.values())


def _drawn_in(top, process, sources: dict[str, DiagramSource]):
    """The workflow whose drawing shows a process: itself, or for an embedded subprocess its parent's."""
    current = process
    while current is not top and current.spec.name not in sources:
        current = current.parent_workflow
    return current


def _place(process) -> int | None:
    """The place number a volunteer path was called for, from the data its first task received."""
    place = process.task_tree.data.get("place") if process.task_tree is not None else None
    return place.get("number") if isinstance(place, dict) else None


def _arrival(task) -> set[tuple[str, str]]:
    """The (element, element) step that brought this task: its nearest ancestor drawn on the diagram.

    SpiffWorkflow creates each task as a child of the one it follows, so the tree records the flows taken.
    """
    parent = task.parent
    while parent is not None and not parent.task_spec.bpmn_id:
        parent = parent.parent
    return {(parent.task_spec.bpmn_id, task.task_spec.bpmn_id)} if parent is not None else set()


def _note(found: dict[str, tuple[str, datetime | None]], task, known_date: datetime | None) -> bool:
    """Record the state of a task's element (incident over current over done); whether it was reached."""
    node = task.task_spec.bpmn_id
    if not node:
        return False
    if task.has_state(TaskState.ERROR):
        state = "incident"
    elif task.has_state(TaskState.READY | TaskState.WAITING | TaskState.STARTED):
        state = "current"
    elif task.has_state(TaskState.COMPLETED):
        state = "done"
    else:
        return False
    rank = {"done": 0, "current": 1, "incident": 2}
    previous = found.get(node)
    moment = known_date or _changed_at(task)
    if previous is None or rank[state] > rank[previous[0]] or (state == previous[0] and moment and
                                                              (previous[1] is None or moment > previous[1])):
        found[node] = (state, moment)
    return True


def _fill_instance_view(view: DiagramView, states: dict[str, tuple[str, datetime | None]],
                        taken: set[tuple[str, str]]) -> None:
    nodes = view.source.nodes
    marked = {node: value for node, value in states.items() if node in nodes}
    for state in ("done", "current", "incident"):
        view.markers[f"sc-{state}"] = sorted(n for n, (s, _) in marked.items() if s == state)
    view.markers["sc-path"] = sorted(flow for flow, source, target in view.source.flows
                                     if (source, target) in taken)
    texts = {"done": "fait le {}", "current": "en cours depuis le {}", "incident": "incident le {}"}
    short = {"done": "✓ {}", "current": "depuis le {}", "incident": "incident le {}"}
    for node, (state, moment) in sorted(marked.items()):
        detail = texts[state].format(date_fr(moment)) if moment else STATE_LABELS[state].lower()
        badge = short[state].format(_day(moment)) if moment else STATE_LABELS[state].lower()
        view.overlays.append({"id": node, "text": badge, "title": detail, "kind": state})
        view.lines.append(NodeLine(nodes[node], STATE_LABELS[state], detail))
    order = list(nodes)
    view.lines.sort(key=lambda line: order.index(line.node.id))


@dataclass
class NodeHeat:
    """What waits at one element of a version: tasks, their ages, overdue ones, incidents, timers."""

    waiting: int = 0
    median_wait: str = ""
    oldest_wait: str = ""
    overdue: int = 0
    incidents: int = 0
    timers: int = 0


def heat_views(files: dict[str, str], process_id: str, process_names: dict[str, str],
               heat: dict[tuple[str, str], NodeHeat]) -> list[DiagramView]:
    """The heat map of a version: the process, then every process it calls, coloured by waiting tasks."""
    known = diagram_sources(files)
    sources: list[DiagramSource] = []
    pending = [process_id]
    while pending:
        name = pending.pop(0)
        if any(s.process_id == name for s in sources):
            continue
        source = known.get(name)
        if source is None:
            continue
        sources.append(source)
        pending.extend(node.called for node in source.nodes.values() if node.called)
    # Timers are known by element id only: they count where that id is drawn.
    for (owner, node_id), value in list(heat.items()):
        if owner == "*":
            target = next((s.process_id for s in sources if node_id in s.nodes), None)
            if target is not None:
                merged = heat.setdefault((target, node_id), NodeHeat())
                merged.timers += value.timers
    peak = max([value.waiting for (owner, _), value in heat.items() if owner != "*"] or [0])
    views = []
    for index, source in enumerate(sources):
        view = DiagramView(f"h{index + 1}", process_names.get(source.process_id, source.process_id), source)
        for level in range(1, HEAT_LEVELS + 1):
            view.markers[f"sc-heat-{level}"] = []
        view.markers["sc-incident"] = []
        for node_id, node in source.nodes.items():
            node_heat = heat.get((source.process_id, node_id)) or _called_heat(node, heat)
            if node_heat is None or not (node_heat.waiting or node_heat.incidents or node_heat.timers):
                continue
            _fill_heat(view, node, node_heat, peak)
        views.append(view)
    return views


def _called_heat(node: FlowNode, heat: dict[tuple[str, str], NodeHeat]) -> NodeHeat | None:
    """A call activity's heat: everything waiting inside the process it calls."""
    if not node.called:
        return None
    inside = [value for (owner, _), value in heat.items() if owner == node.called]
    if not inside:
        return None
    return NodeHeat(waiting=sum(v.waiting for v in inside), overdue=sum(v.overdue for v in inside),
                    incidents=sum(v.incidents for v in inside), timers=sum(v.timers for v in inside))


def _fill_heat(view: DiagramView, node: FlowNode, value: NodeHeat, peak: int) -> None:
    parts = []
    if value.waiting:
        level = max(1, -(-value.waiting * HEAT_LEVELS // max(peak, 1)))
        view.markers[f"sc-heat-{min(level, HEAT_LEVELS)}"].append(node.id)
        parts.append(f"{value.waiting} en attente")
        if value.median_wait:
            parts.append(f"médiane {value.median_wait} · max {value.oldest_wait}")
        if value.overdue:
            parts.append(f"{value.overdue} en retard")
    if value.timers:
        parts.append(f"{value.timers} minuterie{'s' if value.timers > 1 else ''}")
    if parts:
        view.overlays.append({"id": node.id, "text": "\n".join(parts), "kind": "heat", "count": value.waiting})
    if value.incidents:
        view.markers["sc-incident"].append(node.id)
        incidents = f"{value.incidents} incident{'s' if value.incidents > 1 else ''}"
        view.overlays.append({"id": node.id, "text": incidents, "kind": "incident", "count": value.incidents})
        parts.append(incidents)
    view.lines.append(NodeLine(node, f"{value.waiting} en attente", " · ".join(parts)))
