"""The script engine of every instance: restricted Python, and service tasks calling handlers.

Scripts, gateway conditions, DMN cells, timer expressions and service-task
parameters come from BPMN files that analysts edit. SpiffWorkflow evaluates
them with plain `eval`/`exec`; here they are compiled with RestrictedPython,
which refuses dunder attributes, imports and the builtins that reach the OS,
and with the checkpoints of a time and memory budget (`engine.runtime.budget`):
each evaluation that goes past it fails as an incident of its element.
"""
from __future__ import annotations

import ast
import json
import operator
from collections.abc import Callable
from functools import lru_cache

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec, safe_globals
from RestrictedPython.Eval import default_guarded_getitem
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from engine.runtime.budget import (
    Budget,
    BudgetExceeded,
    BudgetRange,
    checkpoint,
    formatted_value,
    guarded_iterator,
    guarded_method,
    multiply,
    power,
    remainder,
    shift_left,
    spending,
)

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
    "range": BudgetRange,
}
# Augmented assignments (`n += 1`), routed through the same checks as the binary operators.
_IN_PLACE = {"+=": operator.add, "-=": operator.sub, "*=": multiply, "/=": operator.truediv,
             "//=": operator.floordiv, "%=": remainder, "**=": power, "<<=": shift_left, ">>=": operator.rshift,
             "&=": operator.and_, "|=": operator.or_, "^=": operator.xor}
# Binary operators that can allocate at once in C, and the budget checks that replace them.
_CHECKED_OPERATORS = {ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Mod: "_mod_"}


def _in_place(symbol: str, target, value):
    return _IN_PLACE[symbol](target, value)


def _getattr(owner, name: str, default=None):
    return guarded_method(owner, name, safer_getattr(owner, name, default))


def restricted_globals() -> dict:
    """Globals given to every script and expression: safe builtins, RestrictedPython guards, budget checks."""
    return {
        "__builtins__": SAFE_BUILTINS,
        "_getattr_": _getattr,
        "_getitem_": default_guarded_getitem,
        "_getiter_": guarded_iterator,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _in_place,
        "_budget_": checkpoint,
        "_mul_": multiply,
        "_pow_": power,
        "_lshift_": shift_left,
        "_mod_": remainder,
        "_fmt_": formatted_value,
    }


class BudgetedTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus the checkpoints of the budget: in every `while` loop, around the operators
    that allocate at once, and around f-string formats (`for` loops and comprehensions go through `_getiter_`)."""

    def visit_While(self, node: ast.While):
        node = self.node_contents_visit(node)
        node.test = ast.copy_location(ast.BoolOp(op=ast.And(), values=[_call("_budget_", [], node.test), node.test]),
                                      node.test)
        return node

    def visit_BinOp(self, node: ast.BinOp):
        node = self.node_contents_visit(node)
        checked = _CHECKED_OPERATORS.get(type(node.op))
        if checked is None:
            return node
        return _call(checked, [node.left, node.right], node)

    def visit_FormattedValue(self, node: ast.FormattedValue):
        node = self.node_contents_visit(node)
        if node.format_spec is None:
            return node
        conversion = ast.copy_location(ast.Constant(node.conversion), node)
        value = _call("_fmt_", [node.value, conversion, node.format_spec], node)
        return ast.copy_location(ast.FormattedValue(value=value, conversion=-1, format_spec=None), node)


def _call(name: str, args: list, where: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.copy_location(ast.Name(name, ast.Load()), where), args=args, keywords=[])
    return ast.copy_location(call, where)


class ScriptRefused(Exception):
    """A script or expression uses something the platform does not allow.

    Not a `Refusal`: it is a problem of the definition files, reported by validation or as an incident.
    """


@lru_cache(maxsize=2048)
def compile_expression(expression: str):
    """Compile an expression under RestrictedPython, or raise `ScriptRefused`."""
    result = compile_restricted_eval(expression, policy=BudgetedTransformer)
    if result.errors:
        raise ScriptRefused("Expression refusée : " + " ; ".join(result.errors))
    return result.code


@lru_cache(maxsize=512)
def compile_script(script: str):
    """Compile a script under RestrictedPython, or raise `ScriptRefused`."""
    result = compile_restricted_exec(script, policy=BudgetedTransformer)
    if result.errors:
        raise ScriptRefused("Script refusé : " + " ; ".join(result.errors))
    return result.code


ServiceCaller = Callable[[str, dict, dict], dict]


class RestrictedEnvironment(TaskDataEnvironment):
    """Task-data environment that runs only RestrictedPython code and routes service calls."""

    def __init__(self, call_service: ServiceCaller | None = None, budget: Budget | None = None):
        super().__init__(restricted_globals())
        self._call_service = call_service
        self.budget = budget or Budget()

    def evaluate(self, expression, context, external_context=None):
        """Evaluate an expression on task data, within the budget."""
        scope = dict(self.globals)
        scope.update(external_context or {})
        scope.update(context)
        code = compile_expression(expression)
        with spending(self.budget):
            return eval(code, scope)  # noqa: S307 - compiled by RestrictedPython

    def execute(self, script, context, external_context=None):
        """Run a script that reads and writes task data, within the budget."""
        self.check_for_overwrite(context, external_context or {})
        code = compile_script(script)
        context.update(self.globals)
        context.update(external_context or {})
        try:
            with spending(self.budget):
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

    def __init__(self, call_service: ServiceCaller | None = None, budget: Budget | None = None,
                 before_service: Callable[[str], None] | None = None):
        """`before_service` runs before each handler call, with the handler's name, outside the handler's failure:
        a `Conflict` it raises stops the change instead of becoming an incident."""
        super().__init__(environment=RestrictedEnvironment(call_service, budget))
        self.before_service = before_service

    def evaluate(self, task, expression, external_context=None):
        """Evaluate an expression; going past the budget fails the task with a French message."""
        try:
            return super().evaluate(task, expression, external_context)
        except WorkflowTaskException as error:
            raise _budget_failure(error, task) from error

    def execute(self, task, script, external_context=None):
        """Run a script; going past the budget fails the task with a French message."""
        try:
            return super().execute(task, script, external_context)
        except WorkflowTaskException as error:
            raise _budget_failure(error, task) from error

    def call_service(self, task, **kwargs):
        """Call a service handler; any failure becomes a `WorkflowTaskException` on the task."""
        if self.before_service is not None:
            self.before_service(kwargs["operation_name"])
        try:
            return self.environment.call_service(task.data, **kwargs)
        except WorkflowTaskException:
            raise
        except Exception as error:  # a handler may fail in any way; it becomes an incident
            raise WorkflowTaskException(str(error) or error.__class__.__name__, task=task, exception=error) from error


class BudgetFailure(WorkflowTaskException):
    """A task failed because its code went past the budget: the incident reads the French message alone."""

    def __str__(self) -> str:
        return str(self.args[0])


def _budget_failure(error: WorkflowTaskException, task) -> WorkflowTaskException:
    """The task's failure in French when the budget was exceeded; SpiffWorkflow's own report otherwise."""
    # SpiffWorkflow raises its report while handling the original error: the budget's, if it was that.
    cause = error.__context__
    if not isinstance(cause, BudgetExceeded):
        return error
    return BudgetFailure(str(cause), task=task, exception=cause)
