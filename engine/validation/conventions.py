"""One home per user task: every file and registry entry that serves a task is found by the task's id.

For a user task `<id>` the platform looks up, by that id alone: its form
`forms/<id>.schema.json` and UI hints `forms/<id>.uischema.json` (or the names
the task declares), the panel `<id>.html` shown above the form (in the web
app's `templates/tasks/panels/`), its rules `handlers.FORM_RULES["<id>"]` and
its prefill `handlers.FORM_PREFILL["<id>"]`. Something named after an id no
user task has is never used, which is how a typo or a renamed task used to fail
without a word: these checks make it an error.

The engine does not know where the web app keeps its templates: the panels
folder is given by the caller (`flask processes validate`), and the web app
decides whether a task has a panel with `task_panel`, the same function these
checks use.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from pathlib import Path

import handlers
from engine.forms import ACTION_FORMS
from engine.validation.forms import form_name
from engine.validation.model import Definitions
from engine.validation.problems import Problem

PANEL_SUFFIX = ".html"
REGISTRY_FILE = "handlers/__init__.py"
# The registries keyed by user task id, and what an entry holds, in French.
TASK_REGISTRIES: dict[str, tuple[str, str]] = {
    "FORM_RULES": ("des règles", "elles ne s'appliqueraient jamais"),
    "FORM_PREFILL": ("un préremplissage", "il ne serait jamais proposé"),
}
_FORM_SUFFIXES = (".uischema.json", ".schema.json", ".json")


def task_panels(panels_dir: Path) -> dict[str, Path]:
    """The panel of each task id that has one: `<panels_dir>/<task id>.html`."""
    if not panels_dir.is_dir():
        return {}
    return {path.name[:-len(PANEL_SUFFIX)]: path for path in sorted(panels_dir.iterdir())
            if path.is_file() and path.name.endswith(PANEL_SUFFIX)}


def task_panel(panels_dir: Path, task_id: str) -> Path | None:
    """The panel shown above the form of task `task_id`, or None when the task has none."""
    return task_panels(panels_dir).get(task_id)


def check_orphan_forms(definitions: Definitions) -> Iterator[Problem]:
    """Each file of forms/ is the form or UI hints of a user task, or of an action of the platform."""
    task_ids = _user_task_ids(definitions)
    if task_ids is None:
        return
    used = {f"{action}{suffix}" for action in ACTION_FORMS for suffix in _FORM_SUFFIXES[:2]}
    for task in definitions.nodes("userTask"):
        used.update({form_name(task)[0], form_name(task, "formUiSchemaFilename", "uischema.json")[0]})
    for name in sorted(definitions.texts):
        folder, _, file = name.partition("/")
        if folder != "forms" or file in used:
            continue
        task_id = next((file[:-len(suffix)] for suffix in _FORM_SUFFIXES if file.endswith(suffix)), file)
        yield Problem("form.orphan", name,
                      f"le fichier porte le nom de la tâche « {task_id} », qu'aucune tâche utilisateur déployée n'a, "
                      "et aucune tâche ne le déclare (formJsonSchemaFilename, formUiSchemaFilename) : il ne serait "
                      f"jamais affiché{_guess(task_id, task_ids)}. Nommez-le d'après l'identifiant de sa tâche "
                      "(« <identifiant>.schema.json », « <identifiant>.uischema.json ») ou supprimez-le.",
                      element_id=task_id)


def check_panels(definitions: Definitions, panels_dir: Path) -> Iterator[Problem]:
    """Each file of the panels folder is `<id>.html` for the id of a user task."""
    task_ids = _user_task_ids(definitions)
    if task_ids is None or not panels_dir.is_dir():
        return
    panels = task_panels(panels_dir)
    for task_id, path in panels.items():
        if task_id not in task_ids:
            yield Problem("panel.orphan", _shown(path),
                          f"le panneau porte le nom de la tâche « {task_id} », qu'aucune tâche utilisateur déployée "
                          f"n'a : il ne serait jamais affiché{_guess(task_id, task_ids)}. Renommez-le "
                          "« <identifiant de la tâche>.html » ou supprimez-le.", element_id=task_id)
    for path in sorted(panels_dir.iterdir()):
        if path.is_file() and not path.name.startswith(".") and path not in panels.values():
            yield Problem("panel.orphan", _shown(path),
                          "ce dossier ne contient que les panneaux des tâches, nommés « <identifiant de la "
                          f"tâche>{PANEL_SUFFIX} » : ce fichier ne serait jamais affiché. Renommez-le ou "
                          "déplacez-le.")


def check_registries(definitions: Definitions) -> Iterator[Problem]:
    """Rules and prefills of handlers/ are registered under the id of a user task."""
    task_ids = _user_task_ids(definitions)
    if task_ids is None:
        return
    for registry, (what, never) in TASK_REGISTRIES.items():
        entries: dict[str, Callable | list[Callable]] = getattr(handlers, registry)
        for task_id, entry in sorted(entries.items()):
            if task_id in task_ids:
                continue
            functions = ", ".join(_where(function) for function in (entry if isinstance(entry, list) else [entry]))
            yield Problem("registry.orphan", REGISTRY_FILE,
                          f"{registry} rattache {what} ({functions or 'aucune fonction'}) à la tâche « {task_id} », "
                          f"qu'aucune tâche utilisateur déployée n'a : {never}{_guess(task_id, task_ids)}. "
                          "Corrigez l'identifiant ou retirez l'entrée.",
                          element_id=task_id)


def _user_task_ids(definitions: Definitions) -> set[str] | None:
    """Ids of every user task; None when a BPMN file is unreadable, since its tasks are then unknown."""
    if any(name.endswith(".bpmn") for name in definitions.unreadable):
        return None
    return {task.id for task in definitions.nodes("userTask")}


def _guess(task_id: str, task_ids: set[str]) -> str:
    """A French hint naming the user task the id was most likely meant to be, or nothing."""
    close = difflib.get_close_matches(task_id, sorted(task_ids), n=1, cutoff=0.8)
    return f" (vouliez-vous dire « {close[0]} » ?)" if close else ""


def _where(function: Callable) -> str:
    """A registered function and the file it lives in, which need not be named after the task."""
    module = getattr(function, "__module__", None) or "?"
    return f"{getattr(function, '__name__', repr(function))} dans {module.replace('.', '/')}.py"


def _shown(path: Path) -> str:
    """The path as a developer types it from the project folder, when the file lies under the current folder."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
