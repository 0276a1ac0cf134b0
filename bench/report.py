"""BENCHMARKS.md: the machine, then each figure with its median, spread and target, then the targets missed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.measure import Figure


@dataclass
class Section:
    """One numbered figure of the report: what was measured, the values, and remarks."""

    number: int
    title: str
    method: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Markdown tables shown after the figures, as they are.
    tables: list[list[str]] = field(default_factory=list)


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}".replace(",", "\u202f")
    if abs(value) >= 10:
        return f"{value:.1f}".replace(".", ",")
    return f"{value:.2f}".replace(".", ",")


def _status(figure: Figure) -> str:
    if figure.met is None:
        return ""
    return "atteint" if figure.met else "**non atteint**"


def render(sections: list[Section], machine: dict[str, str], mode: str, command: str, elapsed_s: float,
           limits: list[str]) -> str:
    """The whole report as Markdown, in French."""
    lines = [
        "# Mesures de performance",
        "",
        f"Dernière exécution complète : {datetime.now():%d/%m/%Y à %H:%M}, mode « {mode} » (`{command}`), "
        f"durée {elapsed_s / 60:.0f} min. Chaque valeur est la médiane de plusieurs exécutions ; l'écart donne "
        "la plus petite et la plus grande. Les durées sont en millisecondes (ms). Le fichier est réécrit par "
        "chaque exécution de `make bench`.",
        "",
        "## Machine",
        "",
        "| élément | valeur |",
        "|---|---|",
        f"| processeur | {machine['cpu']} |",
        f"| cœurs | {machine['cores']} |",
        f"| mémoire | {machine['memory']} |",
        f"| système | {machine['os']} |",
        f"| Python | {machine['python']} |",
        f"| SQLite | {machine['sqlite']} |",
        f"| PostgreSQL | {machine['postgresql']} |",
        f"| charge moyenne de la machine (1 min) | {machine.get('load', 'non mesurée')} |",
        "",
        "La machine est une machine virtuelle partagée : les mesures varient d'une exécution à l'autre, et "
        "d'autant plus que d'autres processus s'y exécutent (voir la charge moyenne ci-dessus : au-delà de 2, "
        "les deux cœurs sont partagés et les durées s'allongent d'autant). D'où les médianes sur plusieurs "
        "exécutions et les écarts affichés.",
        "",
    ]
    for section in sections:
        lines += [f"## {section.number}. {section.title}", "", section.method, ""]
        if section.figures:
            lines += ["| mesure | médiane | écart (min – max) | exécutions | cible | |",
                      "|---|---:|---:|---:|---|---|"]
            for figure in section.figures:
                low, high = figure.spread
                unit = f" {figure.unit}" if figure.unit else ""
                note = f" ({figure.note})" if figure.note else ""
                lines.append(f"| {figure.name}{note} | {_number(figure.median)}{unit} | {_number(low)} – "
                             f"{_number(high)} | {len(figure.runs)} | {figure.target} | {_status(figure)} |")
            lines.append("")
        for table in section.tables:
            lines += [*table, ""]
        lines += [f"- {note}" for note in section.notes]
        if section.notes:
            lines.append("")
    missed = [(section, figure) for section in sections for figure in section.figures if figure.met is False]
    lines += ["## Cibles non atteintes et ce qui les limite", ""]
    if not missed:
        lines += ["Toutes les cibles mesurées sont atteintes.", ""]
    for section, figure in missed:
        lines.append(f"- Figure {section.number}, {figure.name} : {_number(figure.median)} {figure.unit} pour une "
                     f"cible {figure.target}.")
    if missed:
        lines.append("")
    lines += limits
    return "\n".join(lines).rstrip() + "\n"


def write(path: Path, text: str) -> None:
    """Write the report."""
    path.write_text(text, encoding="utf-8")
