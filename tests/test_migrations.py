"""The schema comes from Alembic migrations, up from empty and back down."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from engine.db import Base, downgrade_database, upgrade_database

pytestmark = pytest.mark.postgres



def test_upgrade_from_empty_matches_the_models_and_downgrades_to_empty(tmp_path):
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        name = f"sc_migr_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.rsplit("/", 1)[0] + "/" + name
    else:
        admin, url = None, f"sqlite:///{tmp_path / 'migrations.db'}"
    try:
        upgrade_database(url)
        engine = create_engine(url)
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set(Base.metadata.tables)
        for table in Base.metadata.sorted_tables:
            columns = {c["name"] for c in inspect(engine).get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name
        engine.dispose()
        downgrade_database(url)
        engine = create_engine(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
