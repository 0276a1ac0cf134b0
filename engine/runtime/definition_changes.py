"""What a new set of definition files changes against the deployed version, for a person to read before deploying.

Tasks are compared by id within each process: a task whose id appears is
added, one whose id disappears is removed, one whose label changed is
renamed. A task that lost its id while another with the same label appeared
is reported as an id change: instances waiting on it keep the old version.
Forms are compared field by field, decision tables rule by rule.
"""
from __future__ import annotations

import json
from typing import Any

from engine.validation.model import Definitions, dmn_children, dmn_text

TASK_KINDS = frozenset({"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "manualTask", "sendTask",
                        "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"})
KIND_LABELS = {"userTask": "tâche utilisateur", "serviceTask": "tâche de service", "scriptTask": "script",
               "businessRuleTask": "règle métier", "callActivity": "activité d'appel", "subProcess": "sous-processus",
               "manualTask": "tâche manuelle", "task": "tâche", "sendTask": "envoi", "receiveTask": "réception"}


def summarise_changes(before: dict[str, str], uploads: dict[str, str]) -> dict:
    """What `uploads` change in the files `before`, as JSON-safe data for the page and the record."""
    changed = sorted(name for name in uploads if before.get(name) != uploads[name])
    return {
        "files": [{"name": name, "state": "new" if name not in before else "changed"} for name in changed],
        "unchanged": sorted(name for name in uploads if name not in changed),
        "processes": _processes(before, uploads, changed),
        "forms": [_form(name, before.get(name), uploads[name]) for name in changed if name.startswith("forms/")],
        "decisions": _decisions(before, uploads, changed),
    }


def has_changes(summary: dict) -> bool:
    """Whether a summary holds any change at all."""
    return bool(summary["files"])


def _tasks(definitions: Definitions) -> dict[str, dict[str, dict]]:
    """Process id → task id → {name, kind, file}."""
    found: dict[str, dict[str, dict]] = {}
    for scope in definitions.all_scopes():
        tasks = found.setdefault(scope.process_id, {})
        for node in scope.nodes.values():
            if node.kind in TASK_KINDS:
                tasks[node.id] = {"name": node.name or "", "kind": KIND_LABELS.get(node.kind, node.kind),
                                  "file": node.file}
    return found


def _processes(before: dict[str, str], after: dict[str, str], changed: list[str]) -> list[dict]:
    touched = [name for name in changed if name.endswith(".bpmn")]
    if not touched:
        return []
    old = _tasks(Definitions.read({name: before[name] for name in before if name.endswith(".bpmn")}))
    new_definitions = Definitions.read({name: after[name] for name in touched})
    new = _tasks(new_definitions)
    names = {scope.id: scope.element.get("name") or scope.id for scope in new_definitions.scopes}
    result = []
    for process_id in sorted(set(old) - set(new)):
        if any(task["file"] in touched for task in old[process_id].values()):
            result.append({"id": process_id, "name": process_id, "state": "removed", "added": [],
                           "removed": _listed(old[process_id], old[process_id]), "renamed": [], "new_ids": []})
    for process_id in sorted(new):
        was, now = old.get(process_id), new[process_id]
        if was is None:
            result.append({"id": process_id, "name": names.get(process_id, process_id), "state": "new",
                           "added": _listed(now, now), "removed": [], "renamed": [], "new_ids": []})
            continue
        added = [task_id for task_id in now if task_id not in was]
        removed = [task_id for task_id in was if task_id not in now]
        new_ids = []
        for task_id in list(removed):
            twin = next((a for a in added if now[a]["name"] and now[a]["name"] == was[task_id]["name"]), None)
            if twin is not None:
                new_ids.append({"name": was[task_id]["name"], "old_id": task_id, "new_id": twin})
                removed.remove(task_id)
                added.remove(twin)
        renamed = [{"id": task_id, "old": was[task_id]["name"], "new": now[task_id]["name"]}
                   for task_id in now if task_id in was and was[task_id]["name"] != now[task_id]["name"]]
        result.append({"id": process_id, "name": names.get(process_id, process_id),
                       "state": "changed" if added or removed or renamed or new_ids else "same_tasks",
                       "added": _listed(added, now), "removed": _listed(removed, was), "renamed": renamed,
                       "new_ids": new_ids})
    return result


def _listed(ids, tasks: dict[str, dict]) -> list[dict]:
    return [{"id": task_id, "name": tasks[task_id]["name"], "kind": tasks[task_id]["kind"]} for task_id in ids]


def _form(name: str, before: str | None, after: str) -> dict:
    entry: dict[str, Any] = {"name": name, "state": "new" if before is None else "changed", "added": [],
                             "removed": [], "changed": [], "other": False}
    if name.endswith(".uischema.json"):
        return entry
    try:
        old, new = json.loads(before) if before is not None else {}, json.loads(after)
    except json.JSONDecodeError:
        return entry
    old_fields = old.get("properties", {}) if isinstance(old, dict) else {}
    new_fields = new.get("properties", {}) if isinstance(new, dict) else {}
    entry["added"] = [f for f in new_fields if f not in old_fields]
    entry["removed"] = [f for f in old_fields if f not in new_fields]
    old_required = set(old.get("required", [])) if isinstance(old, dict) else set()
    new_required = set(new.get("required", [])) if isinstance(new, dict) else set()
    entry["changed"] = [f for f in new_fields if f in old_fields and (
        old_fields[f] != new_fields[f] or (f in old_required) != (f in new_required))]
    rest = ({k: v for k, v in old.items() if k not in ("properties", "required")} if isinstance(old, dict) else old,
            {k: v for k, v in new.items() if k not in ("properties", "required")} if isinstance(new, dict) else new)
    entry["other"] = rest[0] != rest[1]
    return entry


def _rules(definitions: Definitions) -> dict[str, dict]:
    """Decision id → {name, file, rules: rule id → cells}."""
    found = {}
    for decision_id, (file, decision) in definitions.decisions.items():
        rules = {}
        for table in dmn_children(decision, "decisionTable"):
            for rule in dmn_children(table, "rule"):
                rules[rule.get("id")] = [dmn_text(entry) for tag in ("inputEntry", "outputEntry")
                                         for entry in dmn_children(rule, tag)]
        found[decision_id] = {"name": decision.get("name") or decision_id, "file": file, "rules": rules}
    return found


def _decisions(before: dict[str, str], after: dict[str, str], changed: list[str]) -> list[dict]:
    touched = [name for name in changed if name.endswith(".dmn")]
    if not touched:
        return []
    old = _rules(Definitions.read({name: text for name, text in before.items() if name.endswith(".dmn")}))
    new = _rules(Definitions.read({name: after[name] for name in touched}))
    result = []
    for decision_id, now in sorted(new.items()):
        was = old.get(decision_id, {"rules": {}})
        result.append({
            "id": decision_id, "name": now["name"], "state": "new" if decision_id not in old else "changed",
            "rules_added": [r for r in now["rules"] if r not in was["rules"]],
            "rules_removed": [r for r in was["rules"] if r not in now["rules"]],
            "rules_changed": [r for r in now["rules"] if r in was["rules"] and was["rules"][r] != now["rules"][r]],
        })
    return result
