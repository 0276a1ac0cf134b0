"""A contract is recorded by one upsert: one row per place of an instance, however often it is drawn up again."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import create_engine, event, insert, select
from test_migrations import demo_database_with_a_project, fresh_database

from engine.db import downgrade_database, make_session_factory, upgrade_database
from engine.directory.lookups import SqlContracts
from engine.documents import DocumentStore, InstanceDocuments
from engine.models import VolunteerContract

from test_processes import start_project


def drawn_up(establishment_id: int, place: int | None, first_name: str = "Léa",
             end_date: str = "2028-06-30") -> dict:
    """A contract as `generate_contract` records it."""
    return {"first_name": first_name, "last_name": "Martin", "birth_date": "2005-03-12",
            "email": "lea.martin@example.fr", "establishment_id": establishment_id, "start_date": "2027-10-01",
            "end_date": end_date, "place": place}


def rows_of(session, instance_id: int) -> list[tuple]:
    """(place, first name, end date, version) of each contract row of an instance, by place."""
    return [tuple(row) for row in session.execute(
        select(VolunteerContract.place, VolunteerContract.first_name, VolunteerContract.end_date,
               VolunteerContract.version)
        .where(VolunteerContract.instance_id == instance_id).order_by(VolunteerContract.place.nulls_last(), VolunteerContract.id))]


def store_version(documents: InstanceDocuments, series: str, place: int | None, version: int) -> None:
    """Store the contract document of that version, as the handler does after recording the contract."""
    documents.store("contract", "Contrat", f"contrat-v{version}.pdf", "application/pdf", b"%PDF-1.7",
                    series=series, place=place, version=version)


@pytest.fixture
def instance(runtime, session):
    """A hosting project of the Rennes school, whose rows the contracts refer to."""
    return start_project(runtime, session)


@pytest.mark.parametrize("place, series", [(1, "contract/place-1"), (None, "contract")])
def test_drawing_up_a_place_contract_again_replaces_its_row_in_one_statement(session, instance, tmp_path, place,
                                                                             series):
    contracts = SqlContracts(session, instance.id, date(2027, 9, 1))
    documents = InstanceDocuments(DocumentStore(tmp_path), session, instance.id)
    assert contracts.record(drawn_up(instance.establishment_id, place), series) == 1
    store_version(documents, series, place, 1)
    statements: list[str] = []

    def seen(_connection, _cursor, statement, *_rest):
        statements.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", seen)
    try:
        assert contracts.record(drawn_up(instance.establishment_id, place, end_date="2028-05-31"), series) == 2
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", seen)
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO volunteer_contract")
    store_version(documents, series, place, 2)
    session.commit()
    assert rows_of(session, instance.id) == [(place, "Léa", "2028-05-31", 2)]


def test_two_places_keep_two_rows_each_with_its_own_versions(session, instance):
    contracts = SqlContracts(session, instance.id, date(2027, 9, 1))
    school = instance.establishment_id
    assert contracts.record(drawn_up(school, 1), "contract/place-1") == 1
    assert contracts.record(drawn_up(school, 2, first_name="Hugo"), "contract/place-2") == 1
    assert contracts.record(drawn_up(school, 1, first_name="Léna"), "contract/place-1") == 1
    session.commit()
    assert rows_of(session, instance.id) == [(1, "Léna", "2028-06-30", 1), (2, "Hugo", "2028-06-30", 1)]


def test_recording_a_contract_forgets_the_engagements_read_before(session, instance):
    contracts = SqlContracts(session, instance.id, date(2027, 9, 1))
    assert contracts.engagements_for("Léa", "Martin", "2005-03-12") == []
    contracts.record(drawn_up(instance.establishment_id, 1), "contract/place-1")
    (engagement,) = contracts.engagements_for("Léa", "Martin", "2005-03-12")
    assert (engagement["instance_id"], engagement["end_date"]) == (instance.id, "2028-06-30")


def test_the_migration_keeps_the_latest_contract_of_each_place_and_its_version(tmp_path):
    with fresh_database(tmp_path) as url:
        # Rows written by today's code, then the schema taken back to the revision before the unique indexes.
        instance_id, school_id = demo_database_with_a_project(url, tmp_path)
        downgrade_database(url, "0025_scenario_runs")

        bind = create_engine(url)
        table = VolunteerContract.__table__
        older, newer = datetime(2027, 9, 1, 10, 0), datetime(2027, 9, 8, 10, 0)
        with bind.begin() as connection:
            for place, first_name, at in [(1, "Léa", older), (1, "Léna", newer), (1, "Lou", older), (2, "Hugo", older),
                                          (None, "Inès", newer), (None, "Ilan", older)]:
                connection.execute(insert(table).values(instance_id=instance_id, created_at=at,
                                                        **drawn_up(school_id, place, first_name=first_name)))
            connection.execute(insert(table.metadata.tables["document"]), [
                {"instance_id": instance_id, "kind": "contract", "title": "Contrat", "filename": f"v{version}.pdf",
                 "content_type": "application/pdf", "storage_key": f"{series}/{version}", "size": 8, "sha256": "0",
                 "created_at": newer, "series": series, "version": version, "place": place}
                for series, place, version in [("contract/place-1", 1, 1), ("contract/place-1", 1, 2),
                                               ("contract", None, 1), ("signed_contract/place-2", 2, 3)]])
        bind.dispose()

        upgrade_database(url)

        bind = create_engine(url)
        with make_session_factory(bind)() as session:
            # Place 2 had no contract document yet: no version to say.
            assert rows_of(session, instance_id) == [(1, "Léna", "2028-06-30", 2), (2, "Hugo", "2028-06-30", None),
                                                     (None, "Inès", "2028-06-30", 1)]
            contracts = SqlContracts(session, instance_id, date(2027, 9, 1))
            assert contracts.record(drawn_up(school_id, None, first_name="Inès"), "contract") == 2
            session.commit()
            assert len(rows_of(session, instance_id)) == 3
        bind.dispose()
