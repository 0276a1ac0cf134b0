"""Confirming an irreversible action on a page of its own, so that it works without JavaScript.

A form whose action cannot be undone (refusing a project, confirming a signed
contract, ending a mission or an instance early) is first answered with a page
saying what will happen; its button sends the same fields again with
`confirmation=oui`. Where the action has a form of its own, a second button
(`confirmation=revoir`) shows that form again with what was typed.
"""
from __future__ import annotations

from flask import render_template, request

from engine.forms import Confirmation

CONFIRMED = "oui"
REVISE = "revoir"


def confirmed() -> bool:
    """Whether the submission comes from the confirmation page's button."""
    return request.form.get("confirmation") == CONFIRMED


def revising() -> bool:
    """Whether the person asked to go back to the form from the confirmation page."""
    return request.form.get("confirmation") == REVISE


def confirmation_page(confirmation: Confirmation, summary: list[tuple[str, str]], *, busy_label: str | None = None,
                      back_link: dict | None = None, cancel_url: str | None = None):
    """The page asking to confirm what was just submitted; `cancel_url` replaces « Revenir au formulaire »."""
    replay = [(name, value) for name, value in request.form.items(multi=True)
              if name not in ("csrf_token", "confirmation")]
    return render_template("confirm.html", confirmation=confirmation, summary=summary, replay=replay,
                           action=request.path, busy_label=busy_label, back_link=back_link,
                           can_revise=cancel_url is None, cancel_url=cancel_url)
