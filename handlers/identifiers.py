"""French identifiers: SIRET, UAI (RNE), phone numbers, emails, postal codes, departments.

Each `*_problem` function returns why a value is not valid, in French, or None
when it is; `normalise_*` functions return the stored form of a valid value.
"""
from __future__ import annotations

import re

UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
LA_POSTE_SIREN = "356000000"
_NATIONAL_PHONE = re.compile(r"^0[1-9]\d{8}$")
# National prefixes of the overseas departments and the country code their numbers are dialled with from abroad:
# La Réunion (0262, 0263, mobiles 0692, 0693) and Mayotte (0269, mobile 0639) share +262.
OVERSEAS_PREFIXES = {
    "0262": "262", "0263": "262", "0269": "262", "0692": "262", "0693": "262", "0639": "262",
    "0590": "590", "0690": "590", "0691": "590",
    "0594": "594", "0694": "594",
    "0596": "596", "0696": "596", "0697": "596",
}
OVERSEAS_CODES = ("262", "590", "594", "596")
# Overseas collectivities with their own numbering plan: Saint-Pierre-et-Miquelon, Wallis-et-Futuna,
# Nouvelle-Calédonie, Polynésie française; country code and the number of digits after it.
OVERSEAS_PLANS = {"508": 6, "681": 6, "687": 6, "689": 8}
# Deliberately simple: one @, no spaces, a dot in the domain; what a mail server accepts is its business.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
OVERSEAS_DEPARTMENTS = ("971", "972", "973", "974", "975", "976")


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


def with_luhn_key(body: str) -> str:
    """`body` followed by the digit that makes the whole pass the Luhn check (e.g. a SIRET from its first 13 digits)."""
    return next(body + key for key in "0123456789" if luhn_valid(body + key))


def normalise_siret(siret: str | None) -> str:
    """SIRET without the spaces or dots people type between its groups of digits."""
    return re.sub(r"[\s.]", "", siret or "")


def siret_problem(siret: str | None) -> str | None:
    """Why a SIRET is not valid, in French, or None when it is."""
    value = normalise_siret(siret)
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


def uai_department(uai: str | None) -> str | None:
    """The department a UAI code's first three characters give (075 → 75, 971, Corsica 620 → 2A, 720 → 2B)."""
    value = (uai or "").strip().upper()
    if len(value) < 3 or not value[:3].isdigit():
        return None
    prefix = value[:3]
    corsica = {"620": "2A", "720": "2B"}
    if prefix in corsica:
        return corsica[prefix]
    return prefix[1:] if prefix.startswith("0") else prefix


def uai_department_problem(uai: str | None, department: str | None) -> str | None:
    """Why a UAI code belongs to another department than the school's, in French, or None when they agree.

    Only a well-formed code is compared; `uai_problem` says what is wrong with another.
    """
    if uai_problem(uai) is not None or not department:
        return None
    given = uai_department(uai)
    expected = normalise_department(department)
    if given == expected:
        return None
    return (f"le code UAI commence par {(uai or '').strip()[:3]}, celui du département {given}, "
            f"et non du département {expected} de l'établissement")


def normalise_phone(phone: str | None) -> str | None:
    """Phone number in international form, or None when it is not a French number.

    Metropolitan numbers take +33; those of the overseas departments their own
    country code (0262 12 34 56 → +262262123456, 0690 12 34 56 →
    +590690123456), as their holders are called from abroad; the overseas
    collectivities outside the French plan (+508, +681, +687, +689) are kept
    with theirs.
    """
    value = re.sub(r"[\s.\-()]", "", phone or "")
    if value.startswith("00"):
        value = "+" + value[2:]
    if value.startswith("+330"):
        # "+33 (0)1 23 45 67 89": the bracketed trunk 0 is not dialled from abroad.
        value = value.replace("330", "33", 1)
    if value.startswith("+"):
        for code, length in OVERSEAS_PLANS.items():
            if value.startswith("+" + code) and len(value) == len(code) + 1 + length and value[1:].isdigit():
                return value
        code = next((code for code in OVERSEAS_CODES if value.startswith("+" + code)), "33")
        if not value.startswith("+" + code) or len(value) != len(code) + 10:
            return None
        value = "0" + value[len(code) + 1:]
        if code != "33" and OVERSEAS_PREFIXES.get(value[:4]) != code:
            return None
    if not _NATIONAL_PHONE.match(value):
        return None
    return "+" + OVERSEAS_PREFIXES.get(value[:4], "33") + value[1:]


def display_phone(phone: str | None) -> str:
    """Phone number grouped by two digits, as French readers expect (« 02 62 12 34 56 »)."""
    normalised = normalise_phone(phone)
    if normalised is None:
        return phone or ""
    code = next((code for code in OVERSEAS_PLANS if normalised.startswith("+" + code)), None)
    if code is not None:
        local = normalised[len(code) + 1:]
        return f"+{code} " + " ".join(local[i : i + 2] for i in range(0, len(local), 2))
    national = "0" + normalised[-9:]
    return " ".join(national[i : i + 2] for i in range(0, 10, 2))


def phone_problem(phone: str | None) -> str | None:
    """Why a phone number is not a valid French number, in French, or None when it is."""
    if not (phone or "").strip():
        return "numéro de téléphone absent"
    if normalise_phone(phone) is None:
        return ("numéro de téléphone non valide (10 chiffres commençant par 0, ou l'indicatif +33, +262, +590, "
                "+594, +596, +508, +681, +687 ou +689 suivi du numéro)")
    return None


def normalise_email(email: str | None) -> str:
    """Email address as stored: trimmed, with its domain in lower case."""
    value = (email or "").strip()
    local, at, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}" if at else value


def email_problem(email: str | None) -> str | None:
    """Why an email address is not valid, in French, or None when it is."""
    value = (email or "").strip()
    if not value:
        return "adresse électronique absente"
    if len(value) > 254 or not _EMAIL.match(value) or ".." in value:
        return "adresse électronique non valide"
    return None


def normalise_department(department: str | None) -> str:
    """Department code as stored: upper case, two digits for metropolitan France ("1" → "01")."""
    value = (department or "").strip().upper()
    return value.zfill(2) if value.isdigit() and len(value) == 1 else value


def department_problem(department: str | None) -> str | None:
    """Why a department code is not valid (01–95 without 20, 2A, 2B, 971–976), or None."""
    value = normalise_department(department)
    if not value:
        return "département absent"
    if value in ("2A", "2B") or value in OVERSEAS_DEPARTMENTS:
        return None
    if len(value) == 2 and value.isdigit() and 1 <= int(value) <= 95 and value != "20":
        return None
    if value == "20":
        return "la Corse est divisée en 2A (Corse-du-Sud) et 2B (Haute-Corse)"
    return f"département « {value} » inconnu"


def postal_code_problem(postal_code: str | None, department: str | None = None) -> str | None:
    """Why a postal code is not valid, in French, or None when it is.

    The first two digits do not always give the department (a commune may be
    served by a neighbouring department's post office), so only the shape is
    checked, and Corsica: its codes start with 20 while its departments are 2A
    and 2B; a Corsican school with a mainland code is flagged.
    """
    value = (postal_code or "").strip()
    if not value:
        return "code postal absent"
    if len(value) != 5 or not value.isdigit():
        return "le code postal doit compter 5 chiffres"
    prefix = int(value[:2])
    if prefix == 0 or prefix == 96 or prefix > 98:
        return "code postal inexistant"
    corsica = normalise_department(department) in ("2A", "2B")
    if corsica and prefix != 20:
        return "un code postal de Corse commence par 20"
    if department and not corsica and prefix == 20:
        return "un code postal commençant par 20 est celui d'une commune de Corse"
    return None


def school_year_problem(school_year: str | None) -> str | None:
    """Why a school year is not written like 2027-2028, in French, or None."""
    match = _SCHOOL_YEAR.match((school_year or "").strip())
    if match is None or int(match.group(2)) != int(match.group(1)) + 1:
        return "année scolaire attendue sous la forme 2027-2028"
    return None
