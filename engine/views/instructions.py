"""Texts analysts write in the models: a task's instructions (Markdown with Jinja expressions, as SpiffArena's
« instructions for end user ») and the lines of a task's context, rendered in a sandbox with the dossier's data."""
from __future__ import annotations

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup

from handlers.formats import date_fr, datetime_fr, number_fr, plural

# What a broken template or unexpected data can raise while rendering: the page then shows the text as written.
RENDERING_ERRORS = (TemplateError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError)
_SANDBOX = SandboxedEnvironment(autoescape=False)
_SANDBOX.filters.update(date_fr=date_fr, datetime_fr=datetime_fr, number_fr=number_fr, plural=plural)
# Raw HTML in instructions (or in the data they quote) is shown as text; links keep markdown-it's safe schemes.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})


def template_syntax(template: str) -> None:
    """Parse a template as the sandbox would; raise `TemplateSyntaxError` when it is not valid."""
    _SANDBOX.parse(template)


def render_template_text(template: str, data: dict) -> str:
    """Render a template with the dossier's data, as text; raise `TemplateError` and the like."""
    return _SANDBOX.from_string(template).render(**data).strip()


def render_instructions(template: str | None, data: dict) -> str:
    """A task's instructions rendered with the dossier's data: Markdown text (as written when it cannot render)."""
    if not template:
        return ""
    try:
        return render_template_text(template, data)
    except RENDERING_ERRORS:
        return template.strip()


def markdown_html(text: str) -> Markup:
    """Markdown text as safe HTML (raw HTML is escaped, not interpreted)."""
    return Markup(_MARKDOWN.render(text)) if text else Markup("")
