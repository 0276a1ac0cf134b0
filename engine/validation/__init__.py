"""Validation of the definition files analysts edit: BPMN, DMN and forms, with every problem in French.

`validate_files` checks a set of files as a deployment would hold them
(`processes/<name>` and `forms/<name>` → text) and reports each problem with its
file, element id and label, and line. The checks are split by concern:

- `xml_di`: the file parses (XML, JSON), SpiffWorkflow accepts it (its messages said in French), every element is
  drawn;
- `elements`: every element type runs on the platform or is refused with the reason (data stores, complex
  gateways, events waiting for what nothing sends, scripts not in Python);
- `catalogue`: the process catalogue (who starts a process, about what) names known roles and values;
- `bpmn`: lanes name roles, exclusive gateways choose, every element is reached, code compiles;
- `forms`: user tasks have a form, forms are JSON Schemas;
- `personal_data`: personal fields are marked (`x-personal`) and land in a variable of their own;
- `conventions`: every form, task panel, rule and prefill is named after a user task (one home per task);
- `service_tasks`: service tasks name a known handler with the parameters it needs;
- `dmn`: decisions exist, read variables produced upstream, and their UNIQUE rules neither overlap nor leave gaps;
- `variables`: scripts, conditions and parameters read variables some step produces.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from lxml import etree

from engine.validation import bpmn, conventions, dmn, elements, forms, personal_data, service_tasks, variables, xml_di
from engine.validation.catalogue import check_catalogue
from engine.validation.model import Definitions
from engine.validation.problems import ERROR, WARNING, Problem, Report

__all__ = ["ERROR", "WARNING", "PathError", "Problem", "Report", "collect_files", "validate_files"]

CHECKS: tuple[Callable[[Definitions], Iterator[Problem]], ...] = (
    xml_di.check_parsing,
    xml_di.check_engine_parsing,
    xml_di.check_diagram,
    elements.check_elements,
    check_catalogue,
    bpmn.check_lanes,
    bpmn.check_flows,
    bpmn.check_gateways,
    bpmn.check_reachability,
    bpmn.check_scripts,
    forms.check_user_task_forms,
    forms.check_form_schemas,
    forms.check_form_hints,
    personal_data.check_personal_marks,
    personal_data.check_personal_variables,
    conventions.check_orphan_forms,
    service_tasks.check_service_tasks,
    dmn.check_decision_calls,
    dmn.check_decision_tables,
    variables.check_variables,
)


def validate_files(files: dict[str, str], targets: Iterable[str] | None = None, *, panels_dir: Path | None = None,
                   registries: bool = False) -> Report:
    """Check a set of definition files; report the problems of `targets` (default: every file).

    The other files give the context: the forms a BPMN names, the process a
    call activity starts, the decision a business rule task calls. When
    `files` are the project's whole set, the project's code is checked
    against them too, whatever the targets: the task panels of `panels_dir`
    (the web app's `templates/tasks/panels`) and, with `registries`, the
    rules and prefills of `handlers` must each name a user task.
    """
    names = sorted(targets if targets is not None else files)
    wanted = set(names)
    definitions = Definitions.read(files)
    problems = [problem for check in CHECKS for problem in _run(check, definitions) if problem.file in wanted]
    problems.sort(key=lambda p: (names.index(p.file) if p.file in wanted else len(names), p.line or 0,
                                 p.element_id or "", p.message))
    code = [*(conventions.check_panels(definitions, panels_dir) if panels_dir is not None else ()),
            *(conventions.check_registries(definitions) if registries else ())]
    return Report(files=names, problems=_unique(problems) + code)


def _run(check: Callable[[Definitions], Iterator[Problem]], definitions: Definitions) -> list[Problem]:
    """The problems of one check; a failure of the check itself becomes a problem of the file it failed on.

    The file is found by running the check again on each file alone; the element, from the check's own
    variables where it stopped. No traceback reaches an analyst.
    """
    try:
        return list(check(definitions))
    except Exception as error:  # a bug of ours or of a library on an unforeseen file: said, never raised
        failing = []
        for name, text in definitions.texts.items():
            try:
                list(check(Definitions.read({name: text})))
            except Exception as alone:  # the same failure, on this file alone
                failing.append(_unexpected(name, alone))
        return failing or [_unexpected(name, error) for name in definitions.texts]


def _unexpected(file: str, error: Exception) -> Problem:
    element = _element_of(error)
    element_id = element.get("id") if element is not None else None
    name = " ".join((element.get("name") or "").split()) or None if element is not None else None
    return Problem("unexpected", file, f"erreur inattendue en lisant ce fichier : la vérification s'est arrêtée "
                                       f"(détail : {type(error).__name__} : {error}). Signalez-le à l'équipe technique "
                                       "avec le fichier.", element_id, name,
                   element.sourceline if element is not None else None)


def _element_of(error: Exception):
    """The XML element the failing code was looking at (a `node` or `element` variable), innermost first."""
    traceback, frames = error.__traceback__, []
    while traceback is not None:
        frames.append(traceback.tb_frame)
        traceback = traceback.tb_next
    for frame in reversed(frames):
        for variable in ("node", "element", "task", "flow"):
            candidate = frame.f_locals.get(variable)
            candidate = getattr(candidate, "element", candidate)
            if isinstance(candidate, etree._Element) and candidate.get("id"):
                return candidate
    return None


def _unique(problems: list[Problem]) -> list[Problem]:
    """Problems once each, without the engine's messages that only echo what a check said better.

    The engine's message on an element another check reports is dropped; so is
    its failure to build a process from a file with other errors, which is
    most often their consequence.
    """
    ours = [p for p in problems if not p.rule.startswith("engine.")]
    explained = {(p.file, p.element_id) for p in ours if p.element_id}
    failing = {p.file for p in ours if p.is_error}
    seen, result = set(), []
    for problem in problems:
        # A missing called process (`engine.call`) is said by no other check: never an echo.
        echo = (problem.rule.startswith("engine.") and problem.rule != "engine.call"
                and (problem.file, problem.element_id) in explained)
        if problem in seen or echo or (problem.rule == "engine.parse" and problem.file in failing):
            continue
        seen.add(problem)
        result.append(problem)
    return result


class PathError(Exception):
    """A path given to the validator cannot be read; the message is French.

    Not a `Refusal`: only the command line gives paths, and reports it as its own error.
    """


def collect_files(paths: Iterable[Path], processes_dir: Path, forms_dir: Path) -> tuple[dict[str, str], list[str]]:
    """The project's definition files with the given paths read over them, and the names the paths stand for.

    A path is a BPMN, DMN or JSON file, or a folder of them; without paths every
    file of `processes_dir` and `forms_dir` is checked.
    """
    from engine.runtime.deployment import read_definition_files

    files = read_definition_files(processes_dir, forms_dir)
    paths = list(paths)
    if not paths:
        return files, sorted(files)
    targets: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in (".bpmn", ".dmn", ".json") and p.is_file())
        elif path.is_file():
            found = [path]
        else:
            raise PathError(f"{path} : fichier ou dossier introuvable.")
        for file in found:
            if file.suffix not in (".bpmn", ".dmn", ".json"):
                raise PathError(f"{file} : seuls les fichiers .bpmn, .dmn et .json (formulaires) se valident.")
            name = f"{'forms' if file.suffix == '.json' else 'processes'}/{file.name}"
            try:
                files[name] = file.read_text(encoding="utf-8")
            except UnicodeDecodeError as error:
                raise PathError(f"{file} : le fichier n'est pas un texte UTF-8 ({error.reason}).") from error
            targets.append(name)
    return files, targets
