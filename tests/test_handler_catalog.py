"""The handlers' catalogue: every registered handler described as its signature declares it, and in the guide."""
from __future__ import annotations

from pathlib import Path

import pytest

import handlers
from handlers.catalog import HANDLER_CATALOG, describe, signature_parameters

GUIDE = (Path(__file__).resolve().parent.parent / "docs" / "guide-analyste.md").read_text(encoding="utf-8")


def test_every_registered_handler_is_described():
    assert set(handlers.HANDLERS) == set(HANDLER_CATALOG)


@pytest.mark.parametrize("name", sorted(HANDLER_CATALOG))
def test_the_description_matches_the_handler_signature(name):
    declared = [(p.name, p.required) for p in HANDLER_CATALOG[name].parameters]
    assert declared == [(p.name, p.required) for p in signature_parameters(handlers.HANDLERS[name])]
    assert HANDLER_CATALOG[name].summary and all(p.description for p in HANDLER_CATALOG[name].parameters)


@pytest.mark.parametrize("name", sorted(HANDLER_CATALOG))
def test_the_analyst_guide_lists_the_handler_and_its_parameters(name):
    row = next((line for line in GUIDE.splitlines() if line.startswith(f"| `{name}` |")), None)
    assert row is not None, f"docs/guide-analyste.md ne décrit pas le gestionnaire {name}"
    for parameter in HANDLER_CATALOG[name].parameters:
        assert f"`{parameter.name}`" in row, (name, parameter.name)


def test_a_handler_without_description_is_read_from_its_signature():
    def send_badge(context, volunteer: dict, colour: str | None = None) -> dict:
        return {}

    description = describe("send_badge", send_badge)
    assert [(p.name, p.type, p.required) for p in description.parameters] == [("volunteer", "dict", True),
                                                                               ("colour", "str", False)]
    assert describe("unknown", None) is None
