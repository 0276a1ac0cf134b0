"""Texts analysts write in the models: a task's instructions (Markdown with Jinja expressions, as SpiffArena's
« instructions for end user ») and the lines of a task's context, rendered in a sandbox with the dossier's data.

The sandbox keeps the same time and memory budget as scripts (`engine.runtime.budget`): its loops run over
budgeted ranges, and the operators, methods and filters that allocate at once are checked first.
"""
from __future__ import annotations

from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import MAX_RANGE, SandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup

from engine.runtime.budget import (
    Budget,
    BudgetExceeded,
    BudgetRange,
    guarded_method,
    multiply,
    power,
    remainder,
    spending,
)
from handlers.formats import date_fr, datetime_fr, number_fr, plural

# What a broken template, unexpected data or a spent budget can raise while rendering: the page then shows the
# text as written.
RENDERING_ERRORS = (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError,
                    BudgetExceeded)
TEMPLATE_BUDGET = Budget()


class _BudgetedSandbox(SandboxedEnvironment):
    """Jinja's sandbox, with the budget's checks on `*`, `**`, `%` and on text methods."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        """Apply a binary operator of a template, checked against the budget."""
        checked = {"*": multiply, "**": power, "%": remainder}.get(operator)
        return checked(left, right) if checked is not None else super().call_binop(context, operator, left, right)

    def call(self, context, obj, /, *args: Any, **kwargs: Any) -> Any:
        """Call a function of a template; a text method is checked first (`'x'.center(10 ** 9)`)."""
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, str):
            obj = guarded_method(owner, getattr(obj, "__name__", ""), obj)
        return super().call(context, obj, *args, **kwargs)


def _range(*args: int) -> BudgetRange:
    numbers = BudgetRange(*args)
    if len(numbers) > MAX_RANGE:
        raise OverflowError(f"intervalle trop long (au plus {MAX_RANGE} nombres)")
    return numbers


def _center(value: Any, width: int = 80) -> str:
    text = str(value)
    return guarded_method(text, "center", text.center)(width)


def _indent(value: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    text = str(value)
    if isinstance(width, int):
        guarded_method(text, "center", lambda size: None)(len(text) + (text.count("\n") + 1) * width)
    return _JINJA_INDENT(text, width, first, blank)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    return remainder(str(value), kwargs or args)


def _replace(value: Any, old: str, new: str, count: int | None = None) -> str:
    text = str(value)
    replaced = guarded_method(text, "replace", text.replace)
    return replaced(old, new) if count is None else replaced(old, new, count)


_SANDBOX = _BudgetedSandbox(autoescape=False)
_JINJA_INDENT = _SANDBOX.filters["indent"]
_SANDBOX.globals["range"] = _range
_SANDBOX.filters.update(date_fr=date_fr, datetime_fr=datetime_fr, number_fr=number_fr, plural=plural,
                        center=_center, indent=_indent, format=_format, replace=_replace)
# Raw HTML in instructions (or in the data they quote) is shown as text; links keep markdown-it's safe schemes.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})


def template_syntax(template: str) -> None:
    """Parse a template as the sandbox would; raise `TemplateSyntaxError` when it is not valid."""
    _SANDBOX.parse(template)


def render_template_text(template: str, data: dict, budget: Budget = TEMPLATE_BUDGET) -> str:
    """Render a template with the dossier's data, as text, within `budget`; raise `TemplateError` and the like."""
    # Compiling folds constant expressions (`{{ '%1000000000d' | format(1) }}`): it spends from the budget too.
    with spending(budget):
        return _SANDBOX.from_string(template).render(**data).strip()


def render_instructions(template: str | None, data: dict, budget: Budget = TEMPLATE_BUDGET) -> str:
    """A task's instructions rendered with the dossier's data: Markdown text (as written when it cannot render)."""
    if not template:
        return ""
    try:
        return render_template_text(template, data, budget)
    except RENDERING_ERRORS:
        return template.strip()


def markdown_html(text: str) -> Markup:
    """Markdown text as safe HTML (raw HTML is escaped, not interpreted)."""
    return Markup(_MARKDOWN.render(text)) if text else Markup("")
