"""What a handler receives from the engine: read access to the directory, documents, mail, a clock.

Handlers import nothing from the engine: these protocols are all they know of it, so each handler can be tested
with small fakes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol


class Directory(Protocol):
    """Read access to the Isidoor directory as the platform keeps it."""

    def establishment(self, establishment_id: int) -> dict | None:
        """The establishment's file, or None."""

    def pupil_counts(self, establishment_id: int) -> dict[str, int]:
        """An establishment's pupil counts by school year ("2027-2028": 420), empty when unknown."""

    def reviewers_for(self, department: str) -> dict:
        """Codes of the Udogec, Urogec and Fnogec covering a department (None where absent)."""

    def people(self, establishment_id: int, roles: tuple[str, ...]) -> list[dict]:
        """People holding one of `roles` in an establishment."""

    def gestionnaires(self, structure_code: str) -> list[dict]:
        """The gestionnaires of a structure (Udogec, Urogec, Fnogec)."""

    def tutors(self, establishment_id: int) -> list[dict]:
        """Tuteurs and cotuteurs of an establishment: person card (with `login`), `eligible` and why not (`reason`)."""

    def structure(self, code: str) -> dict | None:
        """A structure (code, kind, name, email, phone), or None."""


class Contracts(Protocol):
    """The register of Service Civique contracts drawn up on the platform."""

    def engagements_for(self, first_name: str, last_name: str, birth_date: str, place: int | None = None) -> list[dict]:
        """Every contract of the same person the platform knows, any campaign, ended or not (matched on name and
        birth date), except the one of this instance's `place`; the latest first."""

    def record(self, contract: dict, series: str) -> int:
        """Record the contract of a place of the current instance (`place` in `contract`), replacing an earlier one;
        return its version: the one its document takes next in `series` (1 for the first)."""


class Documents(Protocol):
    """Storage of documents produced for the current instance."""

    def store(self, kind: str, title: str, filename: str, content_type: str, content: bytes,
              series: str | None = None, place: int | None = None, version: int | None = None) -> dict:
        """Store a document (the next version of `series` when given, or `version` when the caller knows it);
        return its id, filename and version."""


class Decisions(Protocol):
    """The DMN decision tables of the instance's deployed version."""

    def decide(self, decision_id: str, data: dict) -> dict:
        """Evaluate a decision on `data`; return its outputs by name."""


class Mailer(Protocol):
    """Sends messages by email and keeps a record of them."""

    def send(self, recipient: str, subject: str, body: str) -> object:
        """Send one message (what the engine returns for it is no concern of handlers)."""


class Missions(Protocol):
    """The register of volunteers' missions under follow-up, for the current instance."""

    def open(self, place: int, volunteer: dict, start_date: str, end_date: str, structure_code: str | None) -> None:
        """Record that the mission of a place is under follow-up."""

    def close(self, place: int, status: str, ended_on: str | None = None, termination: dict | None = None) -> None:
        """Record that the mission of a place ended: completed, or terminated early."""

    def mandatory_trainings(self, place: int) -> list[dict]:
        """The mandatory trainings of the place's volunteer: kind, label, done, date."""


class Trainings(Protocol):
    """Training sessions and their registrations."""

    def open_session(self, structure_code: str, session: dict) -> int:
        """Record a planned session of the current instance; return its id."""

    def covers(self, structure_code: str, department: str) -> bool:
        """Whether a department lies in a structure's territory."""

    def invitees(self, session_id: int) -> list[dict]:
        """Who the session is for: volunteers under contract or tuteurs of its territory (name, email)."""

    def unrecorded(self, session_id: int) -> list[str]:
        """Names of the registered people whose attendance is not recorded yet."""

    def close_session(self, session_id: int) -> dict:
        """Close the session; return how many were registered and how many attended."""


@dataclass
class HandlerContext:
    """Everything a handler may use besides its parameters."""

    directory: Directory
    contracts: Contracts
    documents: Documents
    mailer: Mailer
    today: date
    instance_id: int | None = None
    # The instance's campaign (school year, deadline, mission start dates, whether the school may still
    # submit); None for trainings and for instances of campaigns the platform has no record of.
    campaign: dict[str, Any] | None = None
    decisions: Decisions | None = None
    missions: Missions | None = None
    trainings: Trainings | None = None

    def require_missions(self) -> Missions:
        """The missions register: the engine always gives one, a context built for a single rule may not."""
        if self.missions is None:
            raise HandlerError("Le suivi des missions n'est pas disponible pour cette instance.")
        return self.missions

    def require_trainings(self) -> Trainings:
        """The training sessions: the engine always gives them, a context built for a single rule may not."""
        if self.trainings is None:
            raise HandlerError("Les sessions de formation ne sont pas disponibles pour cette instance.")
        return self.trainings


class HandlerError(Exception):
    """A handler cannot do its work; the message (French) is shown to process owners.

    Not a `Refusal`: the user's input is kept and the instance is left in incident, for process owners to fix.
    """
