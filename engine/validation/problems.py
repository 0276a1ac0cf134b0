"""A problem found in the definition files, and the report of a whole validation."""
from __future__ import annotations

from dataclasses import dataclass, field

from handlers.formats import plural

ERROR = "error"
WARNING = "warning"
SEVERITY_LABELS = {ERROR: "erreur", WARNING: "avertissement"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, said in French, with the element it concerns.

    `rule` is a short stable code (`di.shape`, `gateway.conditions`…) that tests
    and the analyst guide refer to; the analyst reads `message`.
    """

    rule: str
    file: str
    message: str
    element_id: str | None = None
    element_name: str | None = None
    line: int | None = None
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        """Whether the problem blocks a deployment."""
        return self.severity == ERROR

    @property
    def element(self) -> str:
        """The element as an analyst finds it in a modeler: its id and, when it has one, its label."""
        if not self.element_id:
            return ""
        return f"{self.element_id} « {self.element_name} »" if self.element_name else self.element_id

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        subject = f"{self.element} : " if self.element_id else ""
        return f"{where} : {SEVERITY_LABELS[self.severity]} : {subject}{self.message}"


@dataclass
class Report:
    """Every problem of a validation, in file and line order."""

    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Problems that block a deployment."""
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        """Problems worth a look that do not block a deployment."""
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        """Whether nothing blocks a deployment."""
        return not self.errors

    def by_file(self) -> dict[str, list[Problem]]:
        """Problems grouped by file, files in order."""
        grouped: dict[str, list[Problem]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.file, []).append(problem)
        return grouped

    def summary(self) -> str:
        """One French line: how many files, errors and warnings."""
        files = len(self.files)
        errors, warnings = len(self.errors), len(self.warnings)
        checked = plural(files, "fichier vérifié", "fichiers vérifiés")
        if not self.problems:
            return f"{checked} : aucun problème."
        return f"{checked} : {plural(errors, 'erreur')}, {plural(warnings, 'avertissement')}."
