"""French identifiers: SIRET, UAI, phone numbers, email addresses, postal codes and departments."""
from __future__ import annotations

import pytest

from handlers.identifiers import (
    department_problem,
    display_phone,
    email_problem,
    normalise_department,
    normalise_email,
    normalise_phone,
    phone_problem,
    postal_code_problem,
    school_year_problem,
    siret_problem,
    uai_department_problem,
    uai_problem,
)


@pytest.mark.parametrize("siret", [
    "73282932000074",        # the example of the domain reference
    "732 829 320 00074",     # as people type it, in groups
    "732.829.320.00074",
    "44306184100047",        # Google France, head office
    "35600000000048",        # La Poste, head office: passes the Luhn check like any other
    "35600000049837",        # La Poste: fails Luhn, but its digits add up to a multiple of 5
    "35600000000001",        # La Poste: same exception
])
def test_valid_sirets(siret):
    assert siret_problem(siret) is None


@pytest.mark.parametrize("siret, problem", [
    (None, "SIRET absent"),
    ("", "SIRET absent"),
    ("7328293200007", "le SIRET doit compter 14 chiffres"),
    ("732829320000745", "le SIRET doit compter 14 chiffres"),
    ("7328293200007A", "le SIRET doit compter 14 chiffres"),
    ("73282932000075", "la clé de contrôle du SIRET est fausse"),
    # Digits adding up to a multiple of 5 save only La Poste's establishments, not another SIREN's.
    ("73282932000004", "la clé de contrôle du SIRET est fausse"),
    ("35600000000002", "la clé de contrôle du SIRET est fausse"),
    ("35600000059843", "la clé de contrôle du SIRET est fausse"),
])
def test_invalid_sirets(siret, problem):
    assert siret_problem(siret) == problem


@pytest.mark.parametrize("uai", ["0750654D", "0920131T", "6200001G", "7200009X", "0750654d", " 0350781J "])
def test_valid_uai(uai):
    assert uai_problem(uai) is None


@pytest.mark.parametrize("uai, problem", [
    (None, "code UAI absent"),
    ("0750654E", "la lettre de contrôle du code UAI est fausse"),
    ("7200009Y", "la lettre de contrôle du code UAI est fausse"),
    ("075065D", "le code UAI doit compter 7 chiffres suivis d'une lettre"),
    ("07506541", "le code UAI doit compter 7 chiffres suivis d'une lettre"),
    ("ABCDEFGH", "le code UAI doit compter 7 chiffres suivis d'une lettre"),
    ("0750654DD", "le code UAI doit compter 7 chiffres suivis d'une lettre"),
])
def test_invalid_uai(uai, problem):
    assert uai_problem(uai) == problem


@pytest.mark.parametrize("typed, stored", [
    ("01 23 45 67 89", "+33123456789"),
    ("0123456789", "+33123456789"),
    ("06.12.34.56.78", "+33612345678"),
    ("06-12-34-56-78", "+33612345678"),
    ("+33 6 12 34 56 78", "+33612345678"),
    ("+33 (0)6 12 34 56 78", "+33612345678"),
    ("0033 6.12.34.56.78", "+33612345678"),
    ("+33612345678", "+33612345678"),
])
def test_valid_phones_are_normalised_to_the_plus_33_form(typed, stored):
    assert phone_problem(typed) is None
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "06 12 34 56", "06 12 34 56 78 90", "00 12 34 56 78",
                                   "+44 20 7946 0958", "+33 0 12", "06 12 34 56 7A", "+3361234567",
                                   # An overseas code with a number of another territory, or too short or long.
                                   "+262 590 12 34 56", "+590 262 12 34 56", "+262 26 21 23 45",
                                   "+508 41 23 4", "+508 41 23 45 6", "+689 87 12 34 5", "+689 87 12 34 56 7"])
def test_invalid_phones_are_refused_with_a_french_message(typed):
    assert normalise_phone(typed) is None
    assert phone_problem(typed) == ("numéro de téléphone non valide (10 chiffres commençant par 0, ou "
                                    "l'indicatif +33, +262, +590, +594, +596, +508, +681, +687 ou +689 suivi du "
                                    "numéro)")


def test_missing_phone_and_display_by_pairs():
    assert phone_problem(None) == "numéro de téléphone absent"
    assert phone_problem("  ") == "numéro de téléphone absent"
    assert display_phone("+33612345678") == "06 12 34 56 78"
    assert display_phone("0612345678") == "06 12 34 56 78"
    # An invalid number is shown as it was given, so that it can be corrected.
    assert display_phone("12345") == "12345"


@pytest.mark.parametrize("email", ["anne.le-goff@ecole-saint-joseph.fr", "a+campagne@example.org",
                                   "Jean.Kerbrat@Lycee.Example.ORG", "marie_jego@udogec56.bzh"])
def test_valid_emails(email):
    assert email_problem(email) is None


@pytest.mark.parametrize("email, problem", [
    (None, "adresse électronique absente"),
    ("", "adresse électronique absente"),
    ("anne.le-goff", "adresse électronique non valide"),
    ("anne@", "adresse électronique non valide"),
    ("@ecole.fr", "adresse électronique non valide"),
    ("anne@ecole", "adresse électronique non valide"),
    ("anne le goff@ecole.fr", "adresse électronique non valide"),
    ("anne@@ecole.fr", "adresse électronique non valide"),
    ("anne..legoff@ecole.fr", "adresse électronique non valide"),
    ("anne@ecole.f", "adresse électronique non valide"),
])
def test_invalid_emails(email, problem):
    assert email_problem(email) == problem


def test_emails_are_stored_trimmed_with_their_domain_in_lower_case():
    assert normalise_email("  Jean.Kerbrat@Lycee.Example.ORG ") == "Jean.Kerbrat@lycee.example.org"


@pytest.mark.parametrize("postal_code, department", [
    ("35700", "35"),
    ("75012", "75"),
    ("20000", "2A"),   # Ajaccio
    ("20090", "2A"),
    ("20200", "2B"),   # Bastia
    ("20600", "2B"),
    ("97100", "971"),
    ("97400", "974"),
    ("01000", "01"),
    ("05000", "5"),
    # The first two digits need not be the department: a commune may be served by a neighbour's office.
    ("44530", "56"),
])
def test_valid_postal_codes(postal_code, department):
    assert postal_code_problem(postal_code, department) is None


@pytest.mark.parametrize("postal_code, department, problem", [
    (None, "35", "code postal absent"),
    ("3570", "35", "le code postal doit compter 5 chiffres"),
    ("357000", "35", "le code postal doit compter 5 chiffres"),
    ("35 700", "35", "le code postal doit compter 5 chiffres"),
    ("00100", "01", "code postal inexistant"),
    ("96100", "95", "code postal inexistant"),
    ("13000", "2A", "un code postal de Corse commence par 20"),
    ("20000", "35", "un code postal commençant par 20 est celui d'une commune de Corse"),
])
def test_invalid_postal_codes(postal_code, department, problem):
    assert postal_code_problem(postal_code, department) == problem


@pytest.mark.parametrize("typed, stored", [("35", "35"), ("5", "05"), ("2a", "2A"), ("2B", "2B"), ("971", "971"),
                                           ("975", "975"), ("976", "976")])
def test_valid_departments(typed, stored):
    assert normalise_department(typed) == stored
    assert department_problem(typed) is None


@pytest.mark.parametrize("typed, problem", [
    ("20", "la Corse est divisée en 2A (Corse-du-Sud) et 2B (Haute-Corse)"),
    ("96", "département « 96 » inconnu"),
    ("00", "département « 00 » inconnu"),
    ("977", "département « 977 » inconnu"),
    ("2C", "département « 2C » inconnu"),
    ("", "département absent"),
])
def test_invalid_departments(typed, problem):
    assert department_problem(typed) == problem


@pytest.mark.parametrize("year, valid", [("2027-2028", True), ("2027-2029", False), ("2027/2028", False),
                                         ("27-28", False), (None, False)])
def test_school_years(year, valid):
    assert (school_year_problem(year) is None) is valid


@pytest.mark.parametrize("typed, stored, shown", [
    ("02 62 12 34 56", "+262262123456", "02 62 12 34 56"),  # La Réunion
    ("0692 12 34 56", "+262692123456", "06 92 12 34 56"),  # La Réunion, mobile
    ("0693123456", "+262693123456", "06 93 12 34 56"),
    ("02 69 61 00 00", "+262269610000", "02 69 61 00 00"),  # Mayotte
    ("06 39 12 34 56", "+262639123456", "06 39 12 34 56"),  # Mayotte, mobile
    ("05 90 12 34 56", "+590590123456", "05 90 12 34 56"),  # Guadeloupe
    ("06 90 12 34 56", "+590690123456", "06 90 12 34 56"),
    ("05 94 12 34 56", "+594594123456", "05 94 12 34 56"),  # Guyane
    ("06 94 12 34 56", "+594694123456", "06 94 12 34 56"),
    ("05 96 12 34 56", "+596596123456", "05 96 12 34 56"),  # Martinique
    ("06 96 12 34 56", "+596696123456", "06 96 12 34 56"),
    ("+262 262 12 34 56", "+262262123456", "02 62 12 34 56"),
    ("00262 692 12 34 56", "+262692123456", "06 92 12 34 56"),
    # Written with +33, as often done, it is still the Réunion number.
    ("+33 2 62 12 34 56", "+262262123456", "02 62 12 34 56"),
    ("+508 41 23 45", "+508412345", "+508 41 23 45"),  # Saint-Pierre-et-Miquelon
    ("+681 72 12 34", "+681721234", "+681 72 12 34"),  # Wallis-et-Futuna
    ("+687 25 12 34", "+687251234", "+687 25 12 34"),  # Nouvelle-Calédonie
    ("+689 87 12 34 56", "+68987123456", "+689 87 12 34 56"),  # Polynésie française
    # Neighbours of the overseas prefixes stay metropolitan numbers.
    ("02 61 12 34 56", "+33261123456", "02 61 12 34 56"),
    ("06 91 12 34 56", "+590691123456", "06 91 12 34 56"),
    ("06 95 12 34 56", "+33695123456", "06 95 12 34 56"),
    ("05 95 12 34 56", "+33595123456", "05 95 12 34 56"),
])
def test_overseas_phones_take_their_own_country_code(typed, stored, shown):
    assert phone_problem(typed) is None
    assert normalise_phone(typed) == stored
    assert display_phone(stored) == shown
    # A number stored before overseas codes were known (+33 form) is read the same way.
    assert normalise_phone(stored) == stored


@pytest.mark.parametrize("uai, department", [
    ("0750654D", "75"), ("0920131T", "92"), ("6200001G", "2A"), ("7200009X", "2B"), ("0350781J", "35"),
    ("0350781J", " 35 "), ("9710001Z", "971"), ("9740001H", "974"),
    # Nothing to compare: the code itself is wrong (uai_problem says why), or the department is unknown.
    ("0750654E", "92"), (None, "75"), ("0750654D", None),
])
def test_uai_matching_its_department(uai, department):
    assert uai_department_problem(uai, department) is None


@pytest.mark.parametrize("uai, department, problem", [
    ("0750654D", "92", "le code UAI commence par 075, celui du département 75, et non du département 92 de "
                       "l'établissement"),
    ("0920131T", "75", "le code UAI commence par 092, celui du département 92, et non du département 75 de "
                       "l'établissement"),
    ("6200001G", "2B", "le code UAI commence par 620, celui du département 2A, et non du département 2B de "
                       "l'établissement"),
    ("7200009X", "2A", "le code UAI commence par 720, celui du département 2B, et non du département 2A de "
                       "l'établissement"),
    ("9710001Z", "974", "le code UAI commence par 971, celui du département 971, et non du département 974 de "
                        "l'établissement"),
])
def test_uai_of_another_department(uai, department, problem):
    assert uai_department_problem(uai, department) == problem
