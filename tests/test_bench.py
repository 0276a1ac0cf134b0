"""The benchmark suite runs: every figure at its smallest scale, on SQLite, writing its report.

No duration is asserted here (performance belongs to `make bench`); this keeps
the benchmark code working as the platform changes.
"""
from __future__ import annotations

import pytest

from bench.run import run

pytestmark = pytest.mark.slow



def test_every_figure_runs_at_its_smallest_scale_and_reports(tmp_path):
    report = tmp_path / "BENCHMARKS.md"
    sections = run("smoke", [1, 2, 3, 4, 5, 6, 7], report, kinds=["sqlite"])

    assert [section.number for section in sections] == [1, 2, 3, 4, 5, 6, 7]
    for section in sections:
        assert section.figures, f"figure {section.number} sans mesure"
        assert all(figure.runs and all(value >= 0 for value in figure.runs) for figure in section.figures)
    completion = next(section for section in sections if section.number == 2)
    # Each floor completion contains its in-memory step: no run's median can be below the step's.
    floor_ratio = next(figure for figure in completion.figures if "Rapport du plancher" in figure.name)
    assert all(value >= 1 for value in floor_ratio.runs)
    http = next(section for section in sections if section.number == 5)
    assert not any("erreur" in note for note in http.notes), http.notes
    assert any("complétions par seconde" in figure.name for figure in http.figures)
    text = report.read_text(encoding="utf-8")
    for heading in ("## Machine", "## 1. ", "## 4. ", "## 7. ", "## Cibles non atteintes"):
        assert heading in text
    assert "PostgreSQL non mesuré : non demandé" in text
