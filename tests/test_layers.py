"""Dependencies point one way, webapp → engine → handlers: each layer imports only those below it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

FORBIDDEN = {"handlers": ("engine", "webapp", "flask"), "engine": ("webapp", "flask")}


def imported_modules(path: Path) -> set[str]:
    """Top-level names of the modules a Python file imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(layer):
    breaches = sorted(f"{path.relative_to(ROOT)} importe {module}"
                      for path in (ROOT / layer).rglob("*.py")
                      for module in imported_modules(path)
                      if module.split(".")[0] in FORBIDDEN[layer])
    assert not breaches, breaches
