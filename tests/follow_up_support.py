"""Helpers of the follow-up, timer and training tests: a volunteer brought to follow-up, a clock moved by hand."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from engine.db import make_session_factory
from engine.models import ProcessInstance, VolunteerMission
from engine.runtime.runtime import RuntimeSettings
from engine.runtime.worker import PassReport, Worker

from conftest import principal_of

REVIEWERS = {"rennes": "gestionnaire.udogec35", "brest": "gestionnaire.udogec29"}


class Clock:
    """A clock that stays where a test puts it."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def actor(lane: str, city: str) -> str:
    """A demo login that may do the tasks of a lane in a city's school."""
    return {"referent": f"referent.{city}", "tuteur": f"tuteur.{city}", "accompagnant": f"tuteur.{city}",
            "gestionnaire": REVIEWERS[city]}[lane]


def to_follow_up(runtime, session, city: str = "rennes", first_name: str = "Léa") -> ProcessInstance:
    """A hosting project accepted and its (single) volunteer path done up to the confirmed contract."""
    from test_processes import accepted_project, ready, sample

    instance = accepted_project(runtime, session, city)
    for _ in range(20):
        if session.scalar(select(VolunteerMission.id).where(VolunteerMission.instance_id == instance.id)):
            return instance
        row = ready(session, instance.id)[0]
        data = sample(row.spec_id)
        if row.spec_id == "volunteer_file":
            # The sample file names the tuteurs of Rennes.
            tutors = {key: value.replace("rennes", city) for key, value in data.items() if key in ("tutor", "cotutor")}
            data = {**data, "first_name": first_name, **tutors}
        runtime.complete(row.id, principal_of(session, actor(row.lane, city)), data)
    raise AssertionError("le parcours n'atteint pas le suivi de la mission")


def run_worker(sessions, tmp_path, when: datetime, session=None, name: str = "test-worker", **settings) -> PassReport:
    """One pass of a worker whose clock reads `when`; `session` (the test's) then reads what it did."""
    report = Worker(sessions, RuntimeSettings(tmp_path / "documents"), {"MAIL_SENDER": "sc@example.org", **settings},
                    name=name, clock=lambda: when).run_once()
    if session is not None:
        session.expire_all()
    return report


def fire_due_timers(runtime, session, when: datetime) -> PassReport:
    """Let a worker whose clock reads `when` fire every timer due by then, on the runtime's database and storage."""
    report = Worker(make_session_factory(session.get_bind()), runtime.settings, {}, name="test-timers",
                    clock=lambda: when).run_once()
    session.expire_all()
    return report
