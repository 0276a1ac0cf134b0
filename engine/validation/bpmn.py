"""BPMN semantics: lanes naming roles, exclusive gateways, reachability, scripts and conditions that compile."""
from __future__ import annotations

from collections.abc import Iterator

from engine.access import LANE_ROLES
from engine.validation.elements import is_python_script
from engine.validation.expressions import expression_problem, script_problem, template_problem, unbounded_loops
from engine.validation.model import NS, Definitions, Node, Scope, local, text_of
from engine.validation.problems import WARNING, Problem
from engine.validation.xml_di import kind_label

_CHOOSING_GATEWAYS = ("exclusiveGateway", "inclusiveGateway")
# Tasks a person does: a form to fill, or a manual task (typed or not) to mark done.
_PEOPLE_TASKS = ("userTask", "manualTask", "task")


def check_lanes(definitions: Definitions) -> Iterator[Problem]:
    """Each lane names a role of the platform, and each user or manual task lies in one (or nobody would see it)."""
    roles = ", ".join(sorted(LANE_ROLES))
    for scope in definitions.scopes:
        for lane in scope.element.iterfind(".//bpmn:lane", NS):
            if lane.get("id") not in LANE_ROLES:
                yield Problem("lane.role", scope.file,
                              f"le couloir ne correspond à aucun rôle connu : son identifiant doit être l'un des rôles "
                              f"{roles}.", lane.get("id"), lane.get("name"), lane.sourceline)
    lanes = definitions.lane_of()
    for scope in definitions.scopes:
        for node in _nodes_with_lane_holder(scope):
            holder, task = node
            if task.kind in _PEOPLE_TASKS and not {(scope.id, holder.id), (scope.id, task.id)} & lanes.keys():
                yield Problem("lane.missing", scope.file,
                              f"la {kind_label(task.kind)} n'est dans aucun couloir : personne ne la verrait dans sa "
                              "boîte. Placez-la dans le couloir du rôle qui doit la faire.", task.id, task.name,
                              task.line)


def _nodes_with_lane_holder(scope: Scope) -> Iterator[tuple[Node, Node]]:
    """(node listed in a lane — itself, or the top-level subprocess holding it —, node) for every node of a process."""
    for node in scope.nodes.values():
        yield node, node
    for child in scope.children:
        holder = scope.nodes[child.id]
        for pending in _all_nodes(child):
            yield holder, pending


def _all_nodes(scope: Scope) -> Iterator[Node]:
    yield from scope.nodes.values()
    for child in scope.children:
        yield from _all_nodes(child)


def check_gateways(definitions: Definitions) -> Iterator[Problem]:
    """An exclusive (or inclusive) gateway that splits gives each outgoing flow a condition, or names a default."""
    for scope in definitions.all_scopes():
        for node in scope.nodes.values():
            if node.kind not in _CHOOSING_GATEWAYS:
                continue
            outgoing = scope.outgoing(node.id)
            default = node.element.get("default")
            if default and default not in {flow.id for flow in outgoing}:
                yield Problem("gateway.default", node.file,
                              f"le flux par défaut « {default} » ne part pas de cette passerelle.",
                              node.id, node.name, node.line)
            if len(outgoing) < 2:
                continue
            bare = [flow for flow in outgoing if flow.id != default and _condition(flow) is None]
            if bare:
                names = ", ".join(f"{f.id} « {f.name} »" if f.name else f.id for f in bare)
                yield Problem("gateway.conditions", node.file,
                              f"la passerelle a des flux sortants sans condition ni flux par défaut ({names}) : "
                              "donnez une condition à chacun, ou marquez l'un d'eux comme flux par défaut.",
                              node.id, node.name, node.line)
            elif not default:
                yield Problem("gateway.no_default", node.file,
                              "la passerelle n'a pas de flux par défaut : si aucune condition n'est vraie, le dossier "
                              "passe en incident.", node.id, node.name, node.line, WARNING)


def _condition(flow: Node) -> str | None:
    return text_of(flow.element.find("bpmn:conditionExpression", NS)) or None


def check_flows(definitions: Definitions) -> Iterator[Problem]:
    """Each sequence flow joins two elements of its own process or subprocess."""
    for scope in definitions.all_scopes():
        for flow in scope.flows.values():
            for end, what, side in (("sourceRef", "part de", "d'où il part"), ("targetRef", "mène à", "où il mène")):
                target = flow.element.get(end)
                if not target:
                    yield Problem("flow.ref", flow.file,
                                  f"le flux n'a pas d'attribut « {end} » : le fichier ne dit pas l'élément {side}. "
                                  "Redessinez la flèche dans un modeleur, d'un élément à l'autre.",
                                  flow.id, flow.name, flow.line)
                elif target not in scope.nodes:
                    yield Problem("flow.ref", flow.file,
                                  f"le flux {what} « {target or ''} », qui n'est pas un élément de ce processus.",
                                  flow.id, flow.name, flow.line)


def check_reachability(definitions: Definitions) -> Iterator[Problem]:
    """Every element is reached by some path from a start event of its process or subprocess."""
    for scope in definitions.scopes:
        yield from _unreachable(scope)


def _unreachable(scope: Scope) -> Iterator[Problem]:
    if not scope.roots():
        yield Problem("reach.start", scope.file, "aucun événement de début : rien ne peut démarrer ici.",
                      scope.id, scope.element.get("name"), scope.element.sourceline)
        return
    reached = scope.reachable
    for node in scope.nodes.values():
        if node.id not in reached:
            yield Problem("reach.unreachable", scope.file,
                          f"{kind_label(node.kind)} qu'aucun chemin n'atteint depuis le début du processus : "
                          "reliez cet élément par un flux ou supprimez-le.", node.id, node.name, node.line)
    for child in scope.children:
        if child.id in reached:
            yield from _unreachable(child)


def check_scripts(definitions: Definitions) -> Iterator[Problem]:
    """Scripts, conditions, parameters, timers and instructions compile as the restricted engine runs them."""
    for scope in definitions.all_scopes():
        for node in [*scope.nodes.values(), *scope.flows.values()]:
            for what, text, kind in expressions_of(node):
                if kind == "expression":
                    problem = expression_problem(text, "les conditions" if what == "la condition" else "les expressions")
                else:
                    problem = {"script": script_problem, "template": template_problem}[kind](text)
                if problem:
                    yield Problem("script.compile", node.file, f"{what} ne se compile pas : {problem}.",
                                  node.id, node.name, node.line)
                elif kind == "script" and (lines := unbounded_loops(text)):
                    yield Problem("script.loop", node.file,
                                  f"{what} a une boucle que rien ne borne (ligne {', '.join(map(str, lines))} : "
                                  "« while » ou fonction récursive) : la plateforme l'arrête au bout de sa limite de "
                                  "temps et met le dossier en incident. Préférez une boucle « for » sur une liste "
                                  "des données.", node.id, node.name, node.line, severity=WARNING)


def expressions_of(node: Node) -> Iterator[tuple[str, str, str]]:
    """(what it is, in French; its text; script, expression or template) for each piece of code of an element."""
    element = node.element
    # A script in another language is refused as such (`elements`); its Python errors would only add noise.
    if node.kind == "scriptTask" and text_of(element.find("bpmn:script", NS)) and is_python_script(node):
        yield "le script", text_of(element.find("bpmn:script", NS)), "script"
    if node.kind == "sequenceFlow" and (condition := _condition(node)):
        yield "la condition", condition, "expression"
    for tag, what in (("preScript", "le pré-script"), ("postScript", "le post-script")):
        if text_of(node.spiff(f"spiffworkflow:{tag}")):
            yield what, text_of(node.spiff(f"spiffworkflow:{tag}")), "script"
    for parameter in element.iterfind(
            "bpmn:extensionElements/spiffworkflow:serviceTaskOperator/spiffworkflow:parameters/spiffworkflow:parameter",
            NS):
        yield f"le paramètre « {parameter.get('id')} »", parameter.get("value") or "None", "expression"
    for definition in element.iterfind("bpmn:timerEventDefinition", NS):
        for timer in definition:
            if text_of(timer):
                yield f"l'expression de la minuterie ({local(timer)})", text_of(timer), "expression"
    for loop in element.iterfind("bpmn:multiInstanceLoopCharacteristics", NS):
        for tag in ("loopCardinality", "completionCondition"):
            if text_of(loop.find(f"bpmn:{tag}", NS)):
                yield f"l'expression « {tag} » de la boucle", text_of(loop.find(f"bpmn:{tag}", NS)), "expression"
    for loop in element.iterfind("bpmn:standardLoopCharacteristics/bpmn:loopCondition", NS):
        if text_of(loop):
            yield "la condition de boucle", text_of(loop), "expression"
    instructions = node.spiff("spiffworkflow:instructionsForEndUser")
    if instructions is not None and (instructions.text or "").strip():
        yield "le texte d'instructions", instructions.text, "template"
