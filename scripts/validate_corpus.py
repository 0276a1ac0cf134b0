"""Validate each BPMN and DMN file of a folder alone, and count what an analyst would find hard to read.

Usage: .venv/bin/python scripts/validate_corpus.py <folder> [--quiet]

Meant for files made with other tools (reference suites, other projects): each file is checked on its
own, as if it were the only process deployed, and its problems are listed. The summary counts the files,
the crashes of the validator, and the problems that are in English, without a line, or without an element.
"""
from __future__ import annotations

import re
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.validation import validate_files  # noqa: E402  (the project root must be on the path first)

# Words that betray an English message; the raw text of the engine is allowed as a detail after « détail : ».
ENGLISH = re.compile(r"\b(the|is|has|not|with|found|expected|invalid|could|unable|must|does|should|no|error)\b", re.I)
DETAIL = re.compile(r"détail[^:]*:.*$", re.S)
# What a message quotes from the file (labels, expressions, names) is the analyst's text, not the message's.
QUOTED = re.compile(r"«[^»]*»|`[^`]*`")


def english(message: str) -> bool:
    """Whether a problem's message reads as English once its quotes and raw detail are left out."""
    return bool(ENGLISH.search(QUOTED.sub("", DETAIL.sub("", message))))


def validate_folder(folder: Path, quiet: bool = False) -> dict[str, int]:
    """Validate each .bpmn/.dmn file of `folder` alone; print its problems; return the counts."""
    counts = {"fichiers": 0, "fichiers avec erreurs": 0, "plantages": 0, "problèmes": 0, "en anglais": 0,
              "sans ligne": 0, "sans élément": 0}
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".bpmn", ".dmn")):
        counts["fichiers"] += 1
        name = f"processes/{path.name}"
        try:
            report = validate_files({name: path.read_text(encoding="utf-8", errors="replace")})
        except Exception:  # the point of the script is to find these
            counts["plantages"] += 1
            print(f"PLANTAGE {path.name}\n{traceback.format_exc()}")
            continue
        counts["fichiers avec erreurs"] += not report.ok
        for problem in report.problems:
            counts["problèmes"] += 1
            flags = []
            if english(problem.message):
                counts["en anglais"] += 1
                flags.append("ANGLAIS")
            if not problem.line:
                counts["sans ligne"] += 1
                flags.append("SANS-LIGNE")
            if not problem.element_id:
                counts["sans élément"] += 1
            if not quiet or flags:
                print(f"{' '.join(flags) + ' ' if flags else ''}[{problem.rule}] {problem}")
    return counts


def main(argv: list[str]) -> int:
    """Run over the folder given on the command line; exit 1 when the validator crashed on some file."""
    if not argv or not Path(argv[0]).is_dir():
        print("Usage : validate_corpus.py <dossier> [--quiet]")
        return 2
    counts = validate_folder(Path(argv[0]), quiet="--quiet" in argv)
    print(" ; ".join(f"{label} : {value}" for label, value in counts.items()))
    return 1 if counts["plantages"] else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
