"""French identifiers: SIRET, UAI (RNE), phone numbers, postal codes."""
from __future__ import annotations

import re

UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
LA_POSTE_SIREN = "356000000"
_PHONE = re.compile(r"^(?:(?:\+33|0033)[1-9]|0[1-9])\d{8}$")


def luhn_valid(digits: str) -> bool:
    """Luhn check used by SIREN and SIRET numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def siret_problem(siret: str | None) -> str | None:
    """Why a SIRET is not valid, in French, or None when it is."""
    value = (siret or "").replace(" ", "")
    if not value:
        return "SIRET absent"
    if not value.isdigit() or len(value) != 14:
        return "le SIRET doit compter 14 chiffres"
    if luhn_valid(value):
        return None
    if value.startswith(LA_POSTE_SIREN) and sum(int(c) for c in value) % 5 == 0:
        return None
    return "la clé de contrôle du SIRET est fausse"


def uai_check_letter(first_seven: str) -> str:
    """Check letter of a UAI code from its first seven characters."""
    return UAI_LETTERS[int(first_seven) % 23]


def uai_problem(uai: str | None) -> str | None:
    """Why a UAI (RNE) code is not valid, in French, or None when it is."""
    value = (uai or "").strip().upper()
    if not value:
        return "code UAI absent"
    if len(value) != 8 or not value[:7].isdigit() or not value[7].isalpha():
        return "le code UAI doit compter 7 chiffres suivis d'une lettre"
    if uai_check_letter(value[:7]) != value[7]:
        return "la lettre de contrôle du code UAI est fausse"
    return None


def normalise_phone(phone: str | None) -> str | None:
    """Phone number in +33 form, or None when it is not a French number."""
    value = re.sub(r"[\s.\-()]", "", phone or "")
    if not _PHONE.match(value):
        return None
    if value.startswith("0033"):
        value = "+33" + value[4:]
    elif value.startswith("0"):
        value = "+33" + value[1:]
    return value


def display_phone(phone: str | None) -> str:
    """Phone number grouped by two digits, as French readers expect."""
    normalised = normalise_phone(phone)
    if normalised is None:
        return phone or ""
    national = "0" + normalised[3:]
    return " ".join(national[i : i + 2] for i in range(0, 10, 2))
