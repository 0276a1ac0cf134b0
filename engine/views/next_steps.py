"""What a person has to do next, for the home page of each role (their tasks by kind: `engine.views.inbox`).

The trainings a school's staff should attend or register volunteers
to; for gestionnaires, the hosting projects waiting for a review in their
territory; for process owners, what needs their attention on the dashboard;
for the staff of schools, the dates their dossiers wait for (the next monthly
follow-up, the mid-mission review).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.access import Principal, task_instance_filter
from engine.campaign.missions import mandatory_status
from engine.campaign.trainings import may_register_self, registerable_missions, visible_sessions
from engine.models import ProcessInstance, TaskRow, TrainingSession, VolunteerMission
from engine.views.waiting import UpcomingEvent, upcoming_in_establishments

# The step where a gestionnaire accepts, refuses or sends back a hosting project (hosting_project.bpmn).
REVIEW_STEP = "review_project"


@dataclass
class TrainingToAttend:
    """An upcoming session that concerns the person: themself to register, or their school's volunteers."""

    training: TrainingSession
    registered_self: bool = False
    may_register_self: bool = False
    volunteers_registered: int = 0
    volunteers_to_register: int = 0


@dataclass
class MissingTrainings:
    """A volunteer of the person's schools, under follow-up, who has not yet attended every mandatory training."""

    mission: VolunteerMission
    missing: list[str] = field(default_factory=list)


def trainings_to_attend(session: Session, principal: Principal, today: date) -> list[TrainingToAttend]:
    """Upcoming open sessions where the person is registered or may register, or may register volunteers."""
    if not principal.all_establishments:
        return []
    found = []
    school_missions = set(session.scalars(select(VolunteerMission.id).where(
        VolunteerMission.establishment_id.in_(principal.all_establishments))))
    for training in sorted(visible_sessions(session, principal), key=lambda t: t.session_date):
        if training.status != "open" or training.session_date < today:
            continue
        item = TrainingToAttend(training)
        if training.audience == "tutors":
            item.registered_self = any(r.person_id == principal.person_id for r in training.registrations)
            item.may_register_self = not item.registered_self and may_register_self(session, principal, training)
        else:
            item.volunteers_to_register = len(registerable_missions(session, principal, training))
            item.volunteers_registered = sum(1 for r in training.registrations if r.mission_id is not None
                                             and r.mission_id in school_missions)
        if item.registered_self or item.may_register_self or item.volunteers_to_register or item.volunteers_registered:
            found.append(item)
    return found


def missing_trainings(session: Session, principal: Principal) -> list[MissingTrainings]:
    """Volunteers in mission in the person's schools who still miss a mandatory training."""
    if not principal.all_establishments:
        return []
    missions = session.scalars(select(VolunteerMission).where(
        VolunteerMission.establishment_id.in_(principal.all_establishments),
        VolunteerMission.status == "in_progress").order_by(VolunteerMission.last_name, VolunteerMission.first_name))
    found = []
    for mission in missions:
        missing = [t["label"] for t in mandatory_status(session, mission) if not t["done"]]
        if missing:
            found.append(MissingTrainings(mission, missing))
    return found


@dataclass
class ReviewQueue:
    """Hosting projects waiting for a review: those the gestionnaire's structures review, and in their territory."""

    mine: int = 0
    mine_overdue: int = 0
    territory: int = 0
    oldest: datetime | None = None


def review_queue(session: Session, principal: Principal, now: datetime) -> ReviewQueue | None:
    """For a gestionnaire, how many hosting projects wait for a review; None for other people."""
    if not principal.is_gestionnaire:
        return None
    waiting = (select(TaskRow).join(ProcessInstance, ProcessInstance.id == TaskRow.instance_id)
               .where(TaskRow.state == "ready", TaskRow.spec_id == REVIEW_STEP,
                      ProcessInstance.status != "suspended"))
    # The review is the gestionnaire lane's: naming the lane lets the inbox index (state, lane, structure) find
    # the structure's tasks instead of every review in the country.
    mine = waiting.where(TaskRow.lane == "gestionnaire", TaskRow.structure_code.in_(principal.structures)).subquery()
    counts = session.execute(select(func.count(), func.count(mine.c.due_at).filter(mine.c.due_at < now),
                                    func.min(mine.c.created_at)).select_from(mine)).one()
    # Filtered on the tasks' own scope columns, each remaining task's instance then read by its key: joining the
    # instances would have the database read every instance of the country to find the suspended ones.
    instance_status = select(ProcessInstance.status).where(ProcessInstance.id == TaskRow.instance_id).scalar_subquery()
    territory = session.execute(select(func.count()).select_from(TaskRow).where(
        TaskRow.state == "ready", TaskRow.spec_id == REVIEW_STEP, task_instance_filter(principal),
        instance_status != "suspended")).scalar_one()
    return ReviewQueue(mine=counts[0], mine_overdue=counts[1], territory=territory, oldest=counts[2])


@dataclass
class Attention:
    """What a process owner should look at on the dashboard: incidents, suspended instances, late tasks."""

    incidents: int = 0
    suspended: int = 0
    overdue_tasks: int = 0
    running: int = 0


def owner_attention(session: Session, principal: Principal, now: datetime) -> Attention | None:
    """For a process owner, the counts the home page points to the dashboard with; None for other people."""
    if not principal.process_owner:
        return None
    statuses = dict(session.execute(select(ProcessInstance.status, func.count())
                                    .group_by(ProcessInstance.status)).all())
    overdue = session.execute(select(func.count()).select_from(TaskRow).join(
        ProcessInstance, ProcessInstance.id == TaskRow.instance_id).where(
        TaskRow.state == "ready", TaskRow.due_at < now, ProcessInstance.status != "suspended")).scalar_one()
    return Attention(incidents=statuses.get("incident", 0), suspended=statuses.get("suspended", 0),
                     overdue_tasks=overdue, running=statuses.get("running", 0))


def waiting_lines(session: Session, principal: Principal, limit: int = 10) -> list[UpcomingEvent]:
    """For a school's référents, tuteurs and cotuteurs, what their dossiers wait for that no one does: the nearest
    timers (the next monthly follow-up, the mid-mission review, the end-of-mission report)."""
    return upcoming_in_establishments(session, principal.all_establishments, limit)
