"""What a directory import did, record by record, in words that agree with each kind of record."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from engine.directory.records import describe_key
from handlers.formats import plural

KIND_LABELS = {"structure": "Structures", "ogec": "OGEC", "establishment": "Établissements", "person": "Personnes",
               "role": "Rôles"}
# One record of a kind, as a line of the report names it (« établissement 0440123V », « OGEC 73282932000074 »).
KIND_NAMES = {"structure": "structure", "ogec": "OGEC", "establishment": "établissement", "person": "personne",
              "role": "rôle"}
OUTCOME_LABELS = {"created": "créé", "updated": "mis à jour", "unchanged": "inchangé", "rejected": "rejeté",
                  "removed": "retiré"}
# After a count, agreeing with the kind of record: masculine singular and plural, then feminine ones.
OUTCOME_COUNTED = {
    "created": (("créé", "créés"), ("créée", "créées")),
    "updated": (("mis à jour", "mis à jour"), ("mise à jour", "mises à jour")),
    "unchanged": (("inchangé", "inchangés"), ("inchangée", "inchangées")),
    "rejected": (("rejeté", "rejetés"), ("rejetée", "rejetées")),
    "removed": (("retiré", "retirés"), ("retirée", "retirées")),
}
FEMININE_KINDS = ("structure", "person")
# Entries kept in the import's record in the database: rejections, values to correct, then changes, up to this many.
STORED_ENTRIES = 5000


def outcome_label(kind: str, outcome: str) -> str:
    """The outcome of one record, agreeing with its kind: « créé » for an establishment, « créée » for a person."""
    return OUTCOME_COUNTED[outcome][kind in FEMININE_KINDS][0]


def outcome_count(kind: str, outcome: str, count: int) -> str:
    """How many records of a kind had an outcome, the words agreeing: « 3 créés » for establishments, « 1 mise à
    jour » for people."""
    singular, plural_form = OUTCOME_COUNTED[outcome][kind in FEMININE_KINDS]
    return plural(count, singular, plural_form)


@dataclass
class Entry:
    """What the import did with one record."""

    kind: str
    key: str
    position: int | None
    outcome: str
    messages: list[str] = field(default_factory=list)
    # Imported with values kept as given but invalid (SIRET, phone...): to be corrected in Isidoor.
    flagged: bool = False

    def as_dict(self) -> dict:
        """The entry as stored and shown."""
        return {"kind": self.kind, "key": self.key, "position": self.position, "outcome": self.outcome,
                "messages": self.messages, "flagged": self.flagged}


@dataclass
class ImportReport:
    """Counts by kind and outcome, and every entry other than "unchanged"."""

    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    entries: list[Entry] = field(default_factory=list)
    # Web sessions of people the import deactivated, ended with it.
    sessions_ended: int = 0

    def add(self, kind: str, key, position: int | None, outcome: str, messages: list[str] | None = None,
            flagged: bool = False) -> Entry:
        """Record an outcome; return its entry so a later database refusal can change it."""
        entry = Entry(kind, describe_key(kind, key), position, outcome, list(messages or []), flagged)
        self.counts[kind][outcome] += 1
        if outcome != "unchanged":
            self.entries.append(entry)
        return entry

    def reject_after_write(self, entry: Entry, message: str) -> None:
        """Turn a created or updated entry into a rejection the database made."""
        self.counts[entry.kind][entry.outcome] -= 1
        self.counts[entry.kind]["rejected"] += 1
        entry.outcome = "rejected"
        entry.messages.append(message)

    def total(self, outcome: str) -> int:
        """How many records of every kind had an outcome."""
        return sum(counter[outcome] for counter in self.counts.values())

    @property
    def changed(self) -> bool:
        """Whether the import wrote anything."""
        return any(self.total(outcome) for outcome in ("created", "updated", "removed"))

    def stored_entries(self) -> list[dict]:
        """Entries to keep in the database: rejections first, then values to correct, capped."""
        ordered = sorted(self.entries, key=lambda e: (e.outcome != "rejected", not e.flagged))
        return [entry.as_dict() for entry in ordered[:STORED_ENTRIES]]
