"""One error model: why the platform turns a request away, in French, and what that means in HTTP.

Every refusal a person can meet derives from `Refusal`: its `message` is French and safe to show, its `status`
is what pages and the API answer with (403 not within your scope, 404 no such thing, 409 the situation does
not allow it, 422 the input is wrong), and `details()` lists field errors for refusals of a form or a request
body. The web app answers every refusal in one place (`webapp.errors`).

An engine entry point rolls back what it started before a refusal leaves it (`rolls_back`, `refusing`): the
caller's session is clean, so a form shown again or an error page reads the database as it was. Files a form
submission brought are committed before the form is validated, on purpose (`engine.uploads`): they survive it.

Faults are not refusals and stay separate: a failing handler becomes an incident on the instance
(`handlers.context.HandlerError`); definitions that do not parse (`DeploymentError`), a decision the deployment
lacks (`DecisionError`) or a script it forbids (`ScriptRefused`) are defects of the definition files; the
command line reports the scenarios and paths it cannot read (`ScenarioError`, `PathError`). A directory file
that cannot be read is no refusal either: it is recorded as a failed import (`ImportFileError`).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy.orm import Session

from engine.forms import FORM_LEVEL

CONCURRENT_CHANGE = "Ce dossier vient d'être modifié par quelqu'un d'autre : rechargez la page et recommencez."
SUSPENDED = "Ce dossier est suspendu par un responsable : ses tâches reprendront à la fin de la suspension."

# A field error as the API reports it: the field (None for the request as a whole) and a French message.
FieldError = dict[str, str | None]


class Refusal(Exception):
    """A request the platform declines: a French `message` safe to show and its HTTP `status`."""

    status: int = 400
    default_message = "La demande n'a pas pu être acceptée."

    def __init__(self, message: str | None = None, *, status: int | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)
        if status is not None:
            self.status = status

    def details(self) -> list[FieldError]:
        """Field errors of the refusal; none unless it is about a form or a request body."""
        return []


class NotFound(Refusal):
    """No such task, instance or record."""

    status = 404
    default_message = "Cette page n'existe pas ou plus."


class Forbidden(Refusal):
    """The user may not see or do this."""

    status = 403
    default_message = "Cette page ne relève pas de votre périmètre."


class Conflict(Refusal):
    """The task is no longer ready, or someone else changed the instance meanwhile."""

    status = 409
    default_message = "Cette action n'est plus possible : la situation a changé entre-temps."


class StartRefused(Refusal):
    """An instance cannot be started (nothing deployed, no such process)."""

    status = 409


class FormInvalid(Refusal):
    """Submitted data fails the form's schema or rules; French messages keyed by field (`FORM_LEVEL`: the form).

    `data` is the submission as received, its files replaced by the references of the stored documents, so that
    the form shown again keeps them.
    """

    status = 422
    default_message = "Le formulaire contient des erreurs."

    def __init__(self, errors: dict[str, list[str]] | None = None, data: dict | None = None,
                 message: str | None = None):
        super().__init__(message)
        self.errors: dict[str, list[str]] = errors or {}
        self.data = data

    def details(self) -> list[FieldError]:
        """One entry per message, `field` None for the form as a whole."""
        return [{"field": None if name == FORM_LEVEL else name, "message": message}
                for name, messages in self.errors.items() for message in messages]


@contextmanager
def refusing(session: Session) -> Iterator[None]:
    """Roll `session` back when a refusal leaves the block, then let the refusal go on."""
    try:
        yield
    except Refusal:
        session.rollback()
        raise


Owner = TypeVar("Owner")
Params = ParamSpec("Params")
Result = TypeVar("Result")


def rolls_back(function: Callable[Concatenate[Owner, Params], Result]) -> Callable[Concatenate[Owner, Params], Result]:
    """Make an entry point roll back its session on a refusal: its first argument, or that argument's `session`."""

    @functools.wraps(function)
    def entry_point(owner: Owner, /, *args: Params.args, **kwargs: Params.kwargs) -> Result:
        session = owner if isinstance(owner, Session) else cast(Any, owner).session
        with refusing(session):
            return function(owner, *args, **kwargs)

    return entry_point
