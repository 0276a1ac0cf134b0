"""Why the runtime did not start or complete something: the exceptions callers turn into French messages."""
from __future__ import annotations

from dataclasses import dataclass, field

CONCURRENT_CHANGE = "Ce dossier vient d'être modifié par quelqu'un d'autre : rechargez la page et recommencez."
SUSPENDED = "Ce dossier est suspendu par un responsable : ses tâches reprendront à la fin de la suspension."


class NotFound(Exception):
    """No such task or instance."""


class Conflict(Exception):
    """The task is no longer ready, or someone else changed the instance meanwhile."""


class StartRefused(Exception):
    """An instance cannot be started; the message says why, in French."""


@dataclass
class FormInvalid(Exception):
    """Submitted data fails the form's schema or rules; messages keyed by field.

    `data` is the submission as received, its files replaced by the references of the stored documents.
    """

    errors: dict[str, list[str]] = field(default_factory=dict)
    data: dict | None = None
