"""French identifiers: SIRET, UAI, phone numbers."""
from __future__ import annotations

import pytest

from handlers.identifiers import display_phone, normalise_phone, siret_problem, uai_problem


@pytest.mark.parametrize("siret", ["73282932000074", "732 829 320 00074", "35600000000001"])
def test_valid_sirets(siret):
    assert siret_problem(siret) is None


@pytest.mark.parametrize("siret, problem", [
    (None, "SIRET absent"),
    ("7328293200007", "le SIRET doit compter 14 chiffres"),
    ("73282932000075", "la clé de contrôle du SIRET est fausse"),
    ("35600000000002", "la clé de contrôle du SIRET est fausse"),
])
def test_invalid_sirets(siret, problem):
    assert siret_problem(siret) == problem


@pytest.mark.parametrize("uai", ["0750654D", "0920131T", "6200001G", "7200009X"])
def test_valid_uai(uai):
    assert uai_problem(uai) is None


@pytest.mark.parametrize("uai", ["0750654E", "075065D", "ABCDEFGH"])
def test_invalid_uai(uai):
    assert uai_problem(uai) is not None


def test_phones_are_normalised_and_displayed_by_pairs():
    assert normalise_phone("01 23 45 67 89") == "+33123456789"
    assert normalise_phone("0033 6.12.34.56.78") == "+33612345678"
    assert normalise_phone("12345") is None
    assert display_phone("+33612345678") == "06 12 34 56 78"
