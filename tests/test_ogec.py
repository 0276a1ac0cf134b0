"""The OGEC as its own record: import, school files, migration; unions dedicated to Service Civique."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from engine.db import downgrade_database, scratch_postgres_database, upgrade_database
from engine.directory.contacts import nearest_structure
from engine.directory.importing import import_directory
from engine.directory.lookups import SqlDirectory
from engine.models import Establishment, Ogec, Structure
from handlers.school_file import OGEC_FIX, school_file_problems

SIRET = "73282932000074"
OTHER_SIRET = "44306184100047"
OGEC = {"siret": SIRET, "name": "OGEC Saint-Félix de Nantes", "address": "4 rue Saint-Félix", "postal_code": "44000",
        "city": "Nantes", "phone": "02 40 12 34 56"}


def school(uai: str, name: str, **fields) -> dict:
    """An establishment record of the current format, in Loire-Atlantique."""
    return {"uai": uai, "name": name, "department": "44", "network": "SGEC", "postal_code": "44000",
            "city": "Nantes", "pupil_count": 310, "pupil_count_year": "2026-2027", **fields}


def by_uai(session, uai: str) -> Establishment:
    """An establishment, read afresh."""
    session.expire_all()
    return session.scalar(select(Establishment).where(Establishment.uai == uai))


def entries(report, kind: str) -> list:
    """The report's entries of a kind."""
    return [entry for entry in report.entries if entry.kind == kind]


def test_an_ogec_running_two_schools_is_one_record_both_files_read(session):
    report, _record = import_directory(session, {"ogecs": [OGEC], "establishments": [
        school("0440123V", "Collège Saint-Félix", ogec=SIRET),
        school("0440124W", "École Notre-Dame", ogec="732 829 320 00074"),
    ]}, source="annuaire.json")

    assert report.counts["ogec"] == {"created": 1}
    felix, notre_dame = by_uai(session, "0440123V"), by_uai(session, "0440124W")
    assert felix.ogec_id == notre_dame.ogec_id is not None
    assert session.scalar(select(sa.func.count()).select_from(Ogec).where(Ogec.siret == SIRET)) == 1
    # Handlers and documents keep reading the OGEC's fields under the establishment's keys.
    file = SqlDirectory(session).establishment(notre_dame.id)
    assert {key: file[key] for key in ("name", "ogec_name", "address", "postal_code", "city", "siret", "phone")} == {
        "name": "École Notre-Dame", "ogec_name": "OGEC Saint-Félix de Nantes", "address": "4 rue Saint-Félix",
        "postal_code": "44000", "city": "Nantes", "siret": SIRET, "phone": "+33240123456"}


def test_an_establishment_naming_an_unknown_ogec_is_rejected(session):
    report, _record = import_directory(session, {"establishments": [school("0440123V", "Collège Saint-Félix",
                                                                           ogec=OTHER_SIRET)]},
                                       source="annuaire.json")

    (entry,) = entries(report, "establishment")
    assert (entry.outcome, entry.messages) == ("rejected", [f"OGEC de SIRET « {OTHER_SIRET} » inconnu de l'annuaire "
                                                            "(section ogecs)"])
    assert by_uai(session, "0440123V") is None


def test_an_establishment_both_naming_and_carrying_its_ogec_is_rejected(session):
    report, _record = import_directory(session, {"ogecs": [OGEC], "establishments": [
        school("0440123V", "Collège Saint-Félix", ogec=SIRET, ogec_name="OGEC Saint-Félix")]}, source="annuaire.json")

    (entry,) = entries(report, "establishment")
    assert entry.outcome == "rejected"
    assert entry.messages == ["OGEC : le nommer par son SIRET (ogec) ou donner ses champs (ogec_name, address, siret, "
                              "phone), pas les deux"]


def test_files_of_the_earlier_format_create_one_ogec_per_siret(session):
    legacy = {"ogec_name": "OGEC Saint-Félix de Nantes", "address": "4 rue Saint-Félix", "siret": SIRET,
              "phone": "02 40 12 34 56"}
    document = {"establishments": [school("0440123V", "Collège Saint-Félix", **legacy),
                                   school("0440124W", "École Notre-Dame", **legacy)]}

    report, _record = import_directory(session, document, source="ancien.json")

    assert report.counts["ogec"] == {"created": 1}
    assert by_uai(session, "0440123V").ogec_id == by_uai(session, "0440124W").ogec_id
    ogec = by_uai(session, "0440123V").ogec
    assert (ogec.name, ogec.address, ogec.postal_code, ogec.city, ogec.phone) == (
        "OGEC Saint-Félix de Nantes", "4 rue Saint-Félix", "44000", "Nantes", "+33240123456")
    again, _record = import_directory(session, document, source="ancien.json")
    assert not again.changed


def test_an_ogec_without_siret_of_the_earlier_format_stays_the_schools_own(session):
    document = {"establishments": [school("0440123V", "Collège Saint-Félix", ogec_name="OGEC Saint-Félix",
                                          address="4 rue Saint-Félix", phone="02 40 12 34 56")]}

    first, _record = import_directory(session, document, source="ancien.json")
    ogec_id = by_uai(session, "0440123V").ogec_id
    second, _record = import_directory(session, document, source="ancien.json")
    document["establishments"][0]["address"] = "6 rue Saint-Félix"
    third, _record = import_directory(session, document, source="ancien.json")

    (created,) = entries(first, "ogec")
    assert (created.outcome, created.flagged) == ("created", True)
    assert created.key == "OGEC Saint-Félix (sans SIRET, établissement 0440123V)"
    assert created.messages == ["SIRET à corriger : SIRET absent"]
    assert not second.changed
    (updated,) = entries(third, "ogec")
    assert updated.messages == ["modifié : address", "SIRET à corriger : SIRET absent"]
    felix = by_uai(session, "0440123V")
    assert (felix.ogec_id, felix.ogec.address) == (ogec_id, "6 rue Saint-Félix")
    assert session.scalar(select(sa.func.count()).select_from(Ogec).where(Ogec.name == "OGEC Saint-Félix")) == 1


def test_an_ogec_without_siret_takes_the_siret_a_later_file_gives(session):
    document = {"establishments": [school("0440123V", "Collège Saint-Félix", ogec_name="OGEC Saint-Félix",
                                          address="4 rue Saint-Félix", phone="02 40 12 34 56")]}
    import_directory(session, document, source="ancien.json")
    ogec_id = by_uai(session, "0440123V").ogec_id
    document["establishments"][0]["siret"] = SIRET

    report, _record = import_directory(session, document, source="ancien.json")

    felix = by_uai(session, "0440123V")
    assert (felix.ogec_id, felix.ogec.siret) == (ogec_id, SIRET)
    assert report.counts["ogec"] == {"unchanged": 1}
    assert session.scalar(select(sa.func.count()).select_from(Ogec).where(Ogec.name == "OGEC Saint-Félix")) == 1


def test_a_school_file_without_ogec_lists_every_ogec_item_to_the_ogec_fix_path(session):
    import_directory(session, {"establishments": [school("0440123V", "Collège Saint-Félix")]}, source="a.json")

    file = SqlDirectory(session).establishment(by_uai(session, "0440123V").id)
    problems = school_file_problems(file)

    assert [(p["field"], p["fix"]) for p in problems] == [(field, OGEC_FIX) for field in
                                                          ("ogec_name", "address", "siret", "phone")]


def test_a_uai_of_another_department_is_flagged_in_the_import_report(session):
    report, _record = import_directory(session, {"ogecs": [OGEC], "establishments": [
        school("0350781J", "Collège Saint-Joseph", ogec=SIRET)]}, source="annuaire.json")

    (entry,) = entries(report, "establishment")
    assert (entry.outcome, entry.flagged) == ("updated", True)
    assert ("code RNE/UAI à corriger : le code UAI commence par 035, celui du département 35, et non du département 44 "
            "de l'établissement") in entry.messages


@pytest.mark.parametrize("record, dedicated", [
    ({"code": "UDOGEC-44", "kind": "udogec", "departments": ["44"]}, False),
    ({"code": "UROGEC-PDL", "kind": "urogec", "departments": ["44"]}, False),
    ({"code": "FNOGEC-2", "kind": "fnogec"}, True),
    ({"code": "UDOGEC-44", "kind": "udogec", "departments": ["44"], "handles_service_civique": True}, True),
    ({"code": "FNOGEC-2", "kind": "fnogec", "handles_service_civique": False}, False),
])
def test_a_structure_is_dedicated_to_service_civique_when_the_file_says_so_the_fnogec_by_default(
        session, record, dedicated):
    import_directory(session, {"structures": [{"name": "Union", **record}]}, source="structures.json")

    session.expire_all()
    structure = session.scalar(select(Structure).where(Structure.code == record["code"]))
    assert structure.handles_service_civique is dedicated


def test_a_structure_flagged_with_something_else_than_a_boolean_is_rejected(session):
    report, _record = import_directory(session, {"structures": [
        {"code": "UDOGEC-44", "kind": "udogec", "name": "Udogec", "departments": ["44"],
         "handles_service_civique": "oui"}]}, source="structures.json")

    (entry,) = entries(report, "structure")
    assert (entry.outcome, entry.messages) == ("rejected", ["dédiée au Service Civique : true ou false attendu"])


def unions(session, udogec: bool | None, urogec: bool | None) -> None:
    """An Udogec and an Urogec covering Loire-Atlantique, dedicated or not (None: absent)."""
    structures = []
    if udogec is not None:
        structures.append({"code": "UDOGEC-44", "kind": "udogec", "name": "Udogec de Loire-Atlantique",
                           "departments": ["44"], "handles_service_civique": udogec})
    if urogec is not None:
        structures.append({"code": "UROGEC-PDL", "kind": "urogec", "name": "Urogec Pays de la Loire",
                           "departments": ["44", "85"], "handles_service_civique": urogec})
    import_directory(session, {"structures": structures}, source="structures.json")
    session.expire_all()


@pytest.mark.parametrize("udogec, urogec, routed, contact", [
    (True, True, {"udogec": "UDOGEC-44", "urogec": "UROGEC-PDL"}, "UDOGEC-44"),
    (False, True, {"udogec": None, "urogec": "UROGEC-PDL"}, "UROGEC-PDL"),
    (True, False, {"udogec": "UDOGEC-44", "urogec": None}, "UDOGEC-44"),
    (False, False, {"udogec": None, "urogec": None}, "FNOGEC"),
    (None, None, {"udogec": None, "urogec": None}, "FNOGEC"),
])
def test_projects_and_questions_go_to_the_dedicated_udogec_else_urogec_else_fnogec(session, udogec, urogec, routed,
                                                                                   contact):
    unions(session, udogec, urogec)

    assert SqlDirectory(session).reviewers_for("44") == {**routed, "fnogec": "FNOGEC"}
    assert nearest_structure(session, "44").code == contact


def test_the_demo_morbihan_udogec_is_not_dedicated_so_its_projects_go_to_the_urogec(session):
    morbihan = session.scalar(select(Structure).where(Structure.code == "UDOGEC-56"))

    assert morbihan is not None and not morbihan.handles_service_civique
    assert SqlDirectory(session).reviewers_for("56") == {"udogec": None, "urogec": "UROGEC-BRETAGNE",
                                                         "fnogec": "FNOGEC"}
    assert SqlDirectory(session).reviewers_for("35")["udogec"] == "UDOGEC-35"


@contextmanager
def fresh_database(tmp_path):
    """An empty database: SQLite, or PostgreSQL when TEST_DATABASE_URL is set (dropped afterwards)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / f'ogec-{uuid.uuid4().hex[:8]}.db'}"
        return
    with scratch_postgres_database(base, "sc_ogec") as url:
        yield url


@pytest.mark.postgres
def test_the_migration_makes_one_ogec_per_siret_else_per_school_and_back(tmp_path):
    with fresh_database(tmp_path) as url:
        upgrade_database(url, "0019_contract_rules")
        engine = sa.create_engine(url)
        schools = [
            ("0440123V", "OGEC Saint-Félix", "4 rue Saint-Félix", SIRET, "+33240123456"),
            ("0440124W", "OGEC Saint-Félix (bis)", "5 rue Saint-Félix", SIRET, None),
            ("0440125X", "OGEC Sans SIRET", "1 place du Bouffay", None, "+33240000000"),
            ("0440126Y", None, None, None, None),
        ]
        with engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO structure (code, kind, name, departments) VALUES "
                                       "('FNOGEC', 'fnogec', 'Fnogec', '[]'), "
                                       "('UDOGEC-44', 'udogec', 'Udogec', '[\"44\"]')"))
            for uai, name, address, siret, phone in schools:
                connection.execute(sa.text(
                    "INSERT INTO establishment (uai, name, ogec_name, address, postal_code, city, department, siret, "
                    "phone, network) VALUES (:uai, 'École', :name, :address, '44000', 'Nantes', '44', :siret, "
                    ":phone, 'SGEC')"), {"uai": uai, "name": name, "address": address, "siret": siret,
                                         "phone": phone})

        upgrade_database(url, "0020_ogec")

        with engine.connect() as connection:
            ogecs = {row.uai: row for row in connection.execute(sa.text(
                "SELECT e.uai, o.id, o.name, o.address, o.postal_code, o.city, o.siret, o.phone FROM establishment e "
                "LEFT JOIN ogec o ON o.id = e.ogec_id"))}
            flags = dict(connection.execute(sa.text("SELECT code, handles_service_civique FROM structure")).all())
            assert connection.execute(sa.text("SELECT count(*) FROM ogec")).scalar_one() == 2
        assert ogecs["0440123V"].id == ogecs["0440124W"].id
        assert (ogecs["0440123V"].name, ogecs["0440123V"].address, ogecs["0440123V"].postal_code,
                ogecs["0440123V"].siret, ogecs["0440123V"].phone) == (
            "OGEC Saint-Félix", "4 rue Saint-Félix", "44000", SIRET, "+33240123456")
        assert (ogecs["0440125X"].name, ogecs["0440125X"].siret, ogecs["0440125X"].city) == (
            "OGEC Sans SIRET", None, "Nantes")
        assert ogecs["0440126Y"].id is None
        assert {code: bool(flag) for code, flag in flags.items()} == {"FNOGEC": True, "UDOGEC-44": False}

        downgrade_database(url, "0019_contract_rules")

        with engine.connect() as connection:
            back = {row.uai: tuple(row)[1:] for row in connection.execute(sa.text(
                "SELECT uai, ogec_name, address, siret, phone FROM establishment"))}
        engine.dispose()
        assert back["0440123V"] == ("OGEC Saint-Félix", "4 rue Saint-Félix", SIRET, "+33240123456")
        # Schools of one OGEC take back its fields: the first school's.
        assert back["0440124W"] == ("OGEC Saint-Félix", "4 rue Saint-Félix", SIRET, "+33240123456")
        assert back["0440125X"] == ("OGEC Sans SIRET", "1 place du Bouffay", None, "+33240000000")
        assert back["0440126Y"] == (None, None, None, None)


def test_the_school_page_shows_its_ogec_the_other_schools_it_runs_and_the_count_with_its_year(browser, session):
    rennes = by_uai(session, "0350781J")
    import_directory(session, {"ogecs": [{"siret": rennes.siret, "name": "OGEC Saint-Joseph de Rennes",
                                          "address": "12 rue de Fougères", "postal_code": "35700", "city": "Rennes",
                                          "phone": "02 62 12 34 56"}],
                               "establishments": [{"uai": "0351235C", "name": "École Saint-Joseph",
                                                   "department": "35", "network": "SGEC", "ogec": rennes.siret}]},
                     source="annuaire.json")
    browser.login("referent.rennes")

    page = " ".join(browser.client.get(f"/etablissements/{rennes.id}").get_data(as_text=True).split())

    assert "Organisme de gestion (OGEC)" in page
    assert "<dt>Gère aussi</dt><dd>École Saint-Joseph</dd>" in page
    # An overseas number, as the directory may give one, is shown the French way.
    assert "02 62 12 34 56" in page
    year = rennes.pupil_count_year[:4]
    assert f"{rennes.pupil_count} élèves (rentrée {year})" in page
