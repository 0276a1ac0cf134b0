"""What a handler receives from the engine: read access to the directory, documents, mail, a clock.

Handlers import nothing from the engine: these protocols are all they know of it,
so each handler can be tested with small fakes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol


class Directory(Protocol):
    """Read access to the Isidoor directory as the platform keeps it."""

    def establishment(self, establishment_id: int) -> dict | None:
        """The establishment's file, or None."""

    def reviewers_for(self, department: str) -> dict:
        """Codes of the Udogec, Urogec and Fnogec covering a department (None where absent)."""

    def people(self, establishment_id: int, roles: tuple[str, ...]) -> list[dict]:
        """People holding one of `roles` in an establishment."""

    def people_in_territory(self, structure_code: str, roles: tuple[str, ...]) -> list[dict]:
        """People holding one of `roles` in the establishments a structure covers."""


class Contracts(Protocol):
    """The register of Service Civique contracts drawn up on the platform."""

    def active_for(self, first_name: str, last_name: str, birth_date: str) -> list[dict]:
        """Contracts of other instances still running for the same person."""

    def record(self, contract: dict) -> None:
        """Record the contract of the current instance."""

    def volunteers_in_territory(self, structure_code: str) -> list[dict]:
        """Volunteers under contract in the establishments a structure covers."""


class Documents(Protocol):
    """Storage of documents produced for the current instance."""

    def store(self, kind: str, title: str, filename: str, content_type: str, content: bytes) -> dict:
        """Store a document; return its description (id, filename)."""


class Decisions(Protocol):
    """The DMN decision tables of the instance's deployed version."""

    def decide(self, decision_id: str, data: dict) -> dict:
        """Evaluate a decision on `data`; return its outputs by name."""


class Mailer(Protocol):
    """Sends messages by email and keeps a record of them."""

    def send(self, recipient: str, subject: str, body: str) -> None:
        """Send one message."""


@dataclass
class HandlerContext:
    """Everything a handler may use besides its parameters."""

    directory: Directory
    contracts: Contracts
    documents: Documents
    mailer: Mailer
    today: date
    instance_id: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    # The instance's campaign (school year, deadline, mission start dates, whether the school may still
    # submit); None for trainings and for instances of campaigns the platform has no record of.
    campaign: dict[str, Any] | None = None
    decisions: Decisions | None = None


class HandlerError(Exception):
    """A handler cannot do its work; the message (French) is shown to process owners."""
