"""Scenario tests analysts write without code: `processes/scenarios/*.yaml` played against the engine.

A scenario names a process, its starting data, each task expected with the
data submitted, and the expected end (end event, status, variables,
documents). `run_scenarios` plays each on its own throwaway copy of the
platform (temporary database with the demo directory, the definition files
deployed, real handlers) and reports PASS, or ÉCHEC with the first
divergence explained in French. The file format is described in `spec`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from engine.scenarios.coverage import CoverageReport, ScenarioCoverage
from engine.scenarios.runner import Outcome, run_scenario
from engine.scenarios.spec import Scenario, ScenarioError, load_scenario
from engine.scenarios.world import World

__all__ = ["CoverageReport", "Outcome", "Scenario", "ScenarioCoverage", "ScenarioError", "find_scenarios",
           "load_scenario", "run_scenarios"]


def find_scenarios(paths: Iterable[Path], default_dir: Path) -> list[Path]:
    """Scenario files of the given files and folders (default: every `*.yaml` of `default_dir`), in name order."""
    found: list[Path] = []
    for path in list(paths) or [default_dir]:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        else:
            found.append(path)
    return found


def run_scenarios(paths: Iterable[Path], files: dict[str, str],
                  reporter: Callable[[Outcome], None] | None = None,
                  coverage: ScenarioCoverage | None = None,
                  starting: Callable[[Path], None] | None = None) -> list[Outcome]:
    """Play each scenario file against the definition `files`; report each outcome as it comes.

    With `coverage` (built on the same files), what the scenarios exercise is recorded in it. `starting` is
    told of each file before it plays (a progress display names the scenario in progress).

    Unreadable scenario files fail at once, without building the throwaway platform.
    """
    loaded: list[tuple[Path, Scenario | Outcome]] = []
    for path in paths:
        try:
            loaded.append((path, load_scenario(path)))
        except ScenarioError as error:
            loaded.append((path, Outcome(path, path.stem, False, f"scénario illisible : {error}")))
    outcomes = []
    world = World(files) if any(isinstance(item, Scenario) for _path, item in loaded) else None
    try:
        for path, item in loaded:
            if starting is not None:
                starting(path)
            if isinstance(item, Scenario):
                assert world is not None  # built above, since a scenario was loaded
                with world.copy() as copy:
                    item = run_scenario(item, copy, coverage)
            outcomes.append(item)
            if reporter is not None:
                reporter(item)
    finally:
        if world is not None:
            world.close()
    return outcomes
