"""Provisioning at a login through Isidoor, without the provider: reading claims, linking, what the directory keeps."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.access import Forbidden, Principal
from engine.directory.provisioning import ClaimedRole, ClaimNames, ProvisioningRefused, provision, read_identity
from engine.directory.sign_on_discrepancies import visible_discrepancies
from engine.models import LoginDiscrepancy, Person

NOW = datetime(2027, 3, 15, 9, 0)
NAMES = ClaimNames(isidoor_id="isidoor_id")


def login(session, claims: dict, now: datetime = NOW):
    """Provision the person of a login with these claims."""
    return provision(session, read_identity(claims, NAMES), now)


def by_login(session, login_name: str) -> Person:
    """A demo person."""
    return session.scalar(select(Person).where(Person.login == login_name))


@pytest.mark.parametrize(("raw", "expected"), [
    ("tuteur:0350781J", ClaimedRole("tuteur", "0350781J", None)),
    (" Cotuteur : 0350781j ", ClaimedRole("cotuteur", "0350781J", None)),
    ("gestionnaire:udogec-35", ClaimedRole("gestionnaire", None, "UDOGEC-35")),
    ("process_owner", ClaimedRole("process_owner", None, None)),
    ({"role": "referent", "establishment": "0291652n"}, ClaimedRole("referent", "0291652N", None)),
    ({"role": "gestionnaire", "structure": "FNOGEC"}, ClaimedRole("gestionnaire", None, "FNOGEC")),
])
def test_roles_are_read_from_strings_or_directory_records(raw, expected):
    assert read_identity({"roles": [raw]}, ClaimNames()).roles == [expected]


@pytest.mark.parametrize("raw", ["directeur:0350781J", 12, None, {"establishment": "0350781J"}, ""])
def test_unreadable_roles_are_kept_aside(raw):
    identity = read_identity({"roles": [raw]}, ClaimNames())
    assert identity.roles == [] and len(identity.unreadable_roles) == 1


def test_claim_names_are_configurable():
    identity = read_identity({"sub": "abc", "uid": "Jean@Isidoor.org", "code": "JDupont", "mail": "j@example.org",
                              "tel": "0612345678", "habilitations": "tuteur:0350781J"},
                             ClaimNames(isidoor_id="uid", gabriel_id="code", email="mail", phone="tel",
                                        roles="habilitations"))
    assert (identity.isidoor_id, identity.gabriel_id, identity.email, identity.phone) == (
        "jean@isidoor.org", "jdupont", "j@example.org", "0612345678")
    assert identity.roles == [ClaimedRole("tuteur", "0350781J")]
    assert read_identity({"roles": ["tuteur:0350781J"]}, ClaimNames(roles="")).roles is None


def test_valid_contacts_from_the_claims_replace_the_directory_ones(session):
    outcome = login(session, {"isidoor_id": "tuteur.rennes@isidoor.example.org", "email": "Thomas.Riou@Example.ORG",
                              "phone_number": "02 99 00 11 22"})
    assert outcome.changes == ["adresse électronique", "téléphone"]
    assert (outcome.person.email, outcome.person.phone) == ("Thomas.Riou@example.org", "+33299001122")
    assert outcome.discrepancies == []


@pytest.mark.parametrize(("claims", "kept"), [
    ({"phone_number": "12"}, "Téléphone transmis par Isidoor non valide"),
    ({"email": "pas une adresse"}, "Adresse électronique transmise par Isidoor non valide"),
    ({"email": "autre@example.org", "email_verified": False}, "non vérifiée par Isidoor"),
])
def test_invalid_or_unverified_contacts_leave_the_directory_values(session, claims, kept):
    before = by_login(session, "tuteur.rennes")
    email, phone = before.email, before.phone
    outcome = login(session, {"isidoor_id": "tuteur.rennes@isidoor.example.org", **claims})
    assert (outcome.person.email, outcome.person.phone) == (email, phone)
    [difference] = outcome.discrepancies
    assert difference.kind == "contact" and kept in difference.message and difference.department == "35"


def test_a_deactivated_person_is_refused(session):
    by_login(session, "tuteur.brest").active = False
    session.commit()
    with pytest.raises(ProvisioningRefused, match="Votre compte est désactivé"):
        login(session, {"isidoor_id": "tuteur.brest@isidoor.example.org"})


def test_an_isidoor_id_that_is_a_local_login_is_not_taken_over(session):
    with pytest.raises(ProvisioningRefused, match="déjà celui d'un compte local"):
        login(session, {"isidoor_id": "pilote"})


def test_a_gabriel_id_shared_by_two_people_links_nobody(session):
    for name in ("referent.rennes", "referent.brest"):
        by_login(session, name).gabriel_id = "jdupont"
    session.commit()
    outcome = login(session, {"isidoor_id": "jean.dupont@isidoor.example.org", "gabriel_id": "jdupont",
                              "given_name": "Jean", "family_name": "Dupont"})
    assert outcome.created and outcome.person.login == "jean.dupont@isidoor.example.org"
    assert [d.kind for d in outcome.discrepancies] == ["identifier"]
    with pytest.raises(ProvisioningRefused, match="aucun identifiant qui vous désigne"):
        login(session, {"gabriel_id": "jdupont"})


def test_linking_by_gabriel_id_keeps_the_directory_isidoor_id(session):
    head = by_login(session, "referent.brest")
    head.gabriel_id = "jkerbrat"
    session.commit()
    outcome = login(session, {"isidoor_id": "autre@isidoor.example.org", "gabriel_id": "JKerbrat"})
    assert outcome.person.id == head.id and head.isidoor_id == "referent.brest@isidoor.example.org"
    [difference] = outcome.discrepancies
    assert difference.kind == "identifier" and difference.department == "29"


def test_a_repeated_difference_is_counted_then_resolved(session):
    claims = {"isidoor_id": "tuteur.rennes@isidoor.example.org", "roles": ["tuteur:0350781J", "referent:0350781J"]}
    login(session, claims)
    login(session, claims, NOW + timedelta(days=1))
    [row] = session.scalars(select(LoginDiscrepancy)).all()
    assert (row.occurrences, row.first_seen_at, row.last_seen_at, row.resolved_at) == (
        2, NOW, NOW + timedelta(days=1), None)
    login(session, {**claims, "roles": ["tuteur:0350781J"]}, NOW + timedelta(days=2))
    session.refresh(row)
    assert row.resolved_at == NOW + timedelta(days=2)
    login(session, claims, NOW + timedelta(days=3))
    session.refresh(row)
    assert (row.occurrences, row.resolved_at) == (3, None)


def test_an_unknown_establishment_is_placed_by_its_uai(session):
    outcome = login(session, {"isidoor_id": "tuteur.rennes@isidoor.example.org",
                              "roles": ["tuteur:0350781J", "tuteur:0561234A"]})
    [difference] = outcome.discrepancies
    assert (difference.kind, difference.department) == ("unknown_scope", "56")


def test_platform_named_referents_are_not_reported_missing_from_isidoor(session):
    person = by_login(session, "tuteur.rennes")
    [role] = person.roles
    role.source = "platform"
    session.commit()
    assert login(session, {"isidoor_id": person.isidoor_id, "roles": []}).discrepancies == []


def test_gestionnaires_see_the_differences_of_their_territory_only(session):
    login(session, {"isidoor_id": "tuteur.rennes@isidoor.example.org", "roles": ["tuteur:0350781J", "tuteur:0291652N"]})
    login(session, {"isidoor_id": "tuteur.brest@isidoor.example.org", "roles": ["tuteur:0291652N", "tuteur:0350781J"]})

    def seen(login_name: str) -> set[str]:
        principal = Principal.of(by_login(session, login_name))
        return {row.person.login for row in visible_discrepancies(session, principal)}

    assert seen("gestionnaire.udogec35") == {"tuteur.brest"}
    assert seen("gestionnaire.udogec29") == {"tuteur.rennes"}
    assert seen("gestionnaire.urogec") == seen("gestionnaire.fnogec") == seen("pilote") == {"tuteur.rennes",
                                                                                             "tuteur.brest"}
    with pytest.raises(Forbidden):
        seen("referent.rennes")
