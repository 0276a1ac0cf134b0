"""The shape of the story's hosting projects: their places, when each step was done, the recruitment calendar."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from engine.demo.cast import Volunteer
from engine.demo.dates import Mission

# Tasks a volunteer's place goes through before the follow-up, and how many days before the mission each is done.
RECRUITMENT = (("select_volunteer", 55, time(10, 0)), ("confirm_selection", 52, time(16, 30)),
               ("volunteer_file", 46, time(11, 0)), ("draw_up_contract", 41, time(14, 0)),
               ("upload_signed_contract", 35, time(10, 30)), ("confirm_contract", 33, time(15, 0)))


@dataclass
class Place:
    """A volunteer's place in a project: its number, who, and the mission (None while not contracted)."""

    number: int
    volunteer: Volunteer | None
    mission: Mission | None
    start: date
    end: date


@dataclass
class Project:
    """A school's hosting project in the story: when each step was done (None: not yet), and its places."""

    key: str
    school_year: str
    places: list[Place]
    started: datetime
    designed: datetime | None
    reviewed: datetime | None
    review: str
    published: datetime | None
    # Moments of the recruitment steps done for each place, in the order of RECRUITMENT.
    recruitment: dict[int, list[datetime]]
