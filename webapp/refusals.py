"""How a view asks for its refusals to be answered otherwise than by the error page.

Views call the engine and let its refusals go: `webapp.errors` answers them all. A page whose answer is not the
error page (the message flashed on the page the person is sent back to, a form shown again with its errors, the
login page) declares it before acting, for the rest of the request.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import flash, g, redirect
from flask.typing import ResponseReturnValue

from engine.errors import Refusal

Declined = TypeVar("Declined", bound=Refusal)


def answer_refusals(answer: Callable[[Declined], ResponseReturnValue], *kinds: type[Declined]) -> None:
    """Answer the refusals of `kinds` met later in this request with `answer`, not the error page.

    The most specific kind wins, then the latest declared: a `ProjectExists` is answered by its own
    declaration, not by the one of the `CampaignRefused` it also is.
    """
    g.setdefault("refusal_answers", []).append((kinds, answer))


def redirect_refusals(to: str | Callable[[Declined], str], *kinds: type[Declined], category: str = "error") -> None:
    """Answer the refusals of `kinds` met later in this request with their message flashed and a redirect."""

    def answer(refusal: Declined) -> ResponseReturnValue:
        flash(refusal.message, category)
        return redirect(to if isinstance(to, str) else to(refusal))

    answer_refusals(answer, *kinds)


def declared_answer(refusal: Refusal) -> Callable[[Any], ResponseReturnValue] | None:
    """The answer this request declared for a refusal, if any."""
    ancestry = type(refusal).__mro__
    declared = [(min(ancestry.index(kind) for kind in kinds if isinstance(refusal, kind)), -order, answer)
                for order, (kinds, answer) in enumerate(g.get("refusal_answers", [])) if isinstance(refusal, kinds)]
    return min(declared, key=lambda found: found[:2])[2] if declared else None
