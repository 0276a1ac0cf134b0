"""The script engine of every instance: restricted Python, and service tasks calling handlers.

Scripts, gateway conditions, DMN cells, timer expressions and service-task
parameters come from BPMN files that analysts edit. SpiffWorkflow evaluates
them with plain `eval`/`exec`; here they are compiled with RestrictedPython,
which refuses dunder attributes, imports and the builtins that reach the OS.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_globals
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

SAFE_BUILTINS = {
    **safe_globals["__builtins__"],
    "min": min,
    "max": max,
    "sum": sum,
    "len": len,
    "any": any,
    "all": all,
    "sorted": sorted,
    "enumerate": enumerate,
    "dict": dict,
    "list": list,
    "set": set,
    "range": range,
}


def restricted_globals() -> dict:
    """Globals given to every script and expression: safe builtins and RestrictedPython guards."""
    return {
        "__builtins__": SAFE_BUILTINS,
        "_getattr_": safer_getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": default_guarded_getiter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
    }


class ScriptRefused(Exception):
    """A script or expression uses something the platform does not allow.

    Not a `Refusal`: it is a problem of the definition files, reported by validation or as an incident.
    """


@lru_cache(maxsize=2048)
def compile_expression(expression: str):
    """Compile an expression under RestrictedPython, or raise `ScriptRefused`."""
    result = compile_restricted_eval(expression)
    if result.errors:
        raise ScriptRefused("Expression refusée : " + " ; ".join(result.errors))
    return result.code


@lru_cache(maxsize=512)
def compile_script(script: str):
    """Compile a script under RestrictedPython, or raise `ScriptRefused`."""
    result = compile_restricted_exec(script)
    if result.errors:
        raise ScriptRefused("Script refusé : " + " ; ".join(result.errors))
    return result.code


ServiceCaller = Callable[[str, dict, dict], dict]


class RestrictedEnvironment(TaskDataEnvironment):
    """Task-data environment that runs only RestrictedPython code and routes service calls."""

    def __init__(self, call_service: ServiceCaller | None = None):
        super().__init__(restricted_globals())
        self._call_service = call_service

    def evaluate(self, expression, context, external_context=None):
        """Evaluate an expression on task data."""
        scope = dict(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        return eval(compile_expression(expression), scope)  # noqa: S307 - compiled by RestrictedPython

    def execute(self, script, context, external_context=None):
        """Run a script that reads and writes task data."""
        self.check_for_overwrite(context, external_context or {})
        code = compile_script(script)
        context.update(self.globals)
        context.update(external_context or {})
        try:
            exec(code, context)  # noqa: S102 - compiled by RestrictedPython
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True

    def _remove_globals_and_functions_from_context(self, context, external_context=None):
        for key in list(context):
            if key == "__builtins__" or key in self.globals or callable(context[key]):
                context.pop(key)
            elif external_context and key in external_context:
                context.pop(key)

    def call_service(self, context, operation_name, operation_params, **_ignored):
        """Call the handler named by a service task with its evaluated parameters."""
        if self._call_service is None:
            raise ScriptRefused("Aucun gestionnaire de tâches de service n'est configuré.")
        params = {name: spec["value"] for name, spec in operation_params.items()}
        return json.dumps(self._call_service(operation_name, params, context))


class CampaignScriptEngine(PythonScriptEngine):
    """Script engine that reports handler failures as task errors with their real cause."""

    def __init__(self, call_service: ServiceCaller | None = None):
        super().__init__(environment=RestrictedEnvironment(call_service))

    def call_service(self, task, **kwargs):
        """Call a service handler; any failure becomes a `WorkflowTaskException` on the task."""
        try:
            return self.environment.call_service(task.data, **kwargs)
        except WorkflowTaskException:
            raise
        except Exception as error:  # a handler may fail in any way; it becomes an incident
            raise WorkflowTaskException(str(error) or error.__class__.__name__, task=task, exception=error) from error
