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
    # The same completions by task type: one line per type the floor reached, each with its least cost.
    [by_type] = completion.tables
    types = [line.split(" | ")[0].removeprefix("| ") for line in by_type[4:]]
    assert "review_project" in types and "publish_offer" in types
    assert any("Rapport de ce minimum" in figure.name for figure in completion.figures)
    http = next(section for section in sections if section.number == 5)
    assert not any("erreur" in note for note in http.notes), http.notes
    assert any("complétions par seconde" in figure.name for figure in http.figures)
    text = report.read_text(encoding="utf-8")
    for heading in ("## Machine", "## 1. ", "## 4. ", "## 7. ", "## Cibles non atteintes"):
        assert heading in text
    assert "PostgreSQL non mesuré : non demandé" in text


def test_the_least_cost_of_a_type_adds_its_work_to_its_floor_and_types_weigh_by_their_completions():
    from bench.by_task import TaskCost, figures, weighted_median

    cheap = TaskCost("publish_offer", 3, 2.0, 0.5, 1.0, {"validation": 0.1, "gestionnaires": 0.0, "fichiers": 0.0})
    dear = TaskCost("review_project", 1, 4.0, 1.0, 2.0, {"validation": 0.2, "gestionnaires": 0.5, "fichiers": 0.3})

    assert dear.least_ms == 3.0
    assert weighted_median([(cheap.least_ms, 3), (dear.least_ms, 1)]) == 1.1
    least, ratio = figures([cheap, dear])
    assert least.runs == [1.1] and ratio.runs == [1.1 / 0.5]


def test_the_summary_says_what_the_ratio_target_leaves_to_the_platform_own_cost():
    from bench.by_task import TaskCost, summary

    cost = TaskCost("publish_offer", 1, 2.5, 0.5, 1.0, {"validation": 0.5, "gestionnaires": 0.0, "fichiers": 0.0})

    said = summary([cost])
    assert "au moins 1,50 ms, 3,0 fois l'étape en mémoire (0,50 ms)" in said
    assert "laisserait 1,00 ms par complétion au coût propre de la plateforme, qui est de 1,00 ms" in said
    assert "le travail lui-même la dépasse" in summary([cost], at_most=2)


@pytest.mark.parametrize("rate, per_core, client_ms, met, by_model", [
    (210.0, 90.0, 0.5, True, False),   # the rate itself
    (150.0, 80.0, 0.5, True, True),    # 2.5 + 0.1 cores wanted: more than two
    (150.0, 120.0, 0.5, False, False),  # 1.7 + 0.1 cores would do: the rate decides, missed
])
def test_the_throughput_target_is_held_by_the_rate_or_where_the_cores_cannot_by_the_processor_model(
        monkeypatch, rate, per_core, client_ms, met, by_model):
    from bench.measure import Figure, check_rate_or_cpu_model

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    load = Figure("débit", "tâches/s", runs=[rate], note="0 erreur(s)")
    cores = Figure("par cœur", "tâches/s", runs=[per_core])

    checked = check_rate_or_cpu_model(load, cores, client_ms, 200)
    assert checked.met is met
    assert ("cible tenue par le modèle processeur" in checked.note) is by_model
    assert checked.target.startswith("≥ 200 tâches/s")
