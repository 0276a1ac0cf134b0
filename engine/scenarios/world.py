"""A throwaway copy of the platform for scenarios: a temporary database with the demo directory.

The database is migrated, the definition files deployed and the demo
directory loaded once, into a template file; each scenario then runs on its
own copy, so that one scenario's volunteers and contracts never meet
another's. Everything lives in a temporary folder removed at the end.
"""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.db import make_engine, make_session_factory, upgrade_database
from engine.demo.directory import demo_campaign, load_demo_data
from engine.models import Campaign, Establishment
from engine.runtime.deployment import deploy


@dataclass
class Copy:
    """One scenario's database and document folder."""

    sessions: sessionmaker
    storage_dir: Path


class World:
    """The template database (migrated, definitions deployed, demo directory) and its copies."""

    def __init__(self, files: dict[str, str]):
        self.root = Path(tempfile.mkdtemp(prefix="scenarios-"))
        self.template = self.root / "template.db"
        self._copies = 0
        url = f"sqlite:///{self.template}"
        upgrade_database(url)
        engine = make_engine(url)
        try:
            with make_session_factory(engine)() as session:
                deploy(session, files, actor="scénarios")
                session.commit()
                load_demo_data(session)
        finally:
            engine.dispose()

    def close(self) -> None:
        """Remove every file of the world."""
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> World:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    @contextmanager
    def copy(self) -> Iterator[Copy]:
        """A fresh copy of the template database, removed after use."""
        self._copies += 1
        folder = self.root / f"copy-{self._copies}"
        folder.mkdir()
        database = folder / "scenario.db"
        shutil.copyfile(self.template, database)
        engine = make_engine(f"sqlite:///{database}")
        try:
            yield Copy(make_session_factory(engine), folder / "documents")
        finally:
            engine.dispose()
            shutil.rmtree(folder, ignore_errors=True)


def set_the_scene(session: Session, moment: datetime, school_year: str | None) -> Campaign:
    """The campaign of the scenario's date (or the one named), open, with every school file counted for it."""
    campaign = None
    if school_year:
        campaign = session.scalar(select(Campaign).where(Campaign.school_year == school_year))
    if campaign is None:
        campaign = demo_campaign(session, moment.date())
        session.flush()
    for establishment in session.scalars(select(Establishment)):
        establishment.pupil_count_year = campaign.pupil_count_year
    return campaign
