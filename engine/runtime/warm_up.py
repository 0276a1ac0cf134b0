"""Readying a new web worker before its first request.

A worker starts with nothing parsed and nothing compiled: its first completion of each kind of task paid for
parsing the deployed processes, building the task's form and validator, compiling the scripts and conditions
it ran (RestrictedPython) and the SQL of every request (SQLAlchemy compiles a statement the first time a process
runs it). With four workers, each paid it again: a new worker's first task of each kind took 3 to 23 ms more
than the next ones (docs/performances.md), and gunicorn replaces its workers every couple of thousand requests.

`warm_up` does that work once at start, from the current deployment, and writes nothing: the statements are
run with keys no row has, in a transaction rolled back. What is left for the first requests is the SQL of
handlers and pages, compiled as they come. (The web worker also compiles its page templates:
`webapp.worker_start`.)
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from engine.directory.tokens import TOKEN_PRINCIPAL
from engine.directory.web_sessions import SESSION_HOLDER
from engine.form_checks import compile_check, validate
from engine.runtime import spiff_internals
from engine.runtime.deployment import ProcessBundle, bundle_for, current_deployment
from engine.runtime.scripting import ScriptRefused, compile_expression, compile_script
from engine.runtime.store import READY_SIBLINGS, READY_SIBLINGS_WITH_STATE, STORED_STATE
from engine.runtime.tasks import has_form, spiff_form

# The reads of every request (who asks, the task and its instance, the stored state), with keys no row has.
REQUEST_READS = (
    (TOKEN_PRINCIPAL, {"digest": ""}),
    (SESSION_HOLDER, {"digest": ""}),
    (READY_SIBLINGS, {"task_id": ""}),
    (READY_SIBLINGS_WITH_STATE, {"task_id": ""}),
    (STORED_STATE, {"instance_id": -1}),
)


@dataclass(frozen=True)
class WarmedUp:
    """What a warm-up prepared, and how long it took."""

    forms: int
    scripts: int
    statements: int
    seconds: float


def warm_up(sessions: sessionmaker) -> WarmedUp | None:
    """Parse the current deployment, build its forms' validators, compile its scripts and the requests' reads.

    Returns None when nothing is deployed (a new database): there is nothing to prepare.
    """
    started = time.perf_counter()
    with sessions() as session:
        deployment = current_deployment(session)
        if deployment is None:
            return None
        bundle = bundle_for(deployment)
        forms = _check_empty_forms(bundle)
        scripts = sum(1 for _ in _compiled_scripts(bundle))
        statements = _run_request_reads(session)
        session.rollback()
    return WarmedUp(forms, scripts, statements, time.perf_counter() - started)


def _task_specs(bundle: ProcessBundle) -> Iterator[Any]:
    for process_id, spec in bundle.specs.items():
        for parsed in (spec, *bundle.subprocess_specs[process_id].values()):
            yield from parsed.task_specs.values()


def _check_empty_forms(bundle: ProcessBundle) -> int:
    """Compile every user task's form check and validate an empty submission against it: the compiled check,
    jsonschema's validator and its French messages are all built then."""
    today, count = date.today(), 0
    for task_spec in _task_specs(bundle):
        if has_form(task_spec):
            form = spiff_form(bundle, task_spec)
            compile_check(form, today)
            validate(form, {}, today)
            count += 1
    return count


def _compiled_scripts(bundle: ProcessBundle) -> Iterator[str]:
    """Compile the scripts and gateway conditions of the processes (kept by `engine.runtime.scripting`)."""
    for task_spec in _task_specs(bundle):
        texts = [(compile_script, getattr(task_spec, "script", None))]
        texts += [(compile_expression, condition) for condition in spiff_internals.gateway_conditions(task_spec)]
        for compile_text, text in texts:
            if not isinstance(text, str) or not text.strip():
                continue
            try:
                compile_text(text)
            except ScriptRefused:
                # Deployment refuses such a text; a process deployed before that check fails on it when run.
                continue
            yield text


def _run_request_reads(session: Session) -> int:
    for statement, keys in REQUEST_READS:
        session.execute(statement, keys).all()
    return len(REQUEST_READS)
