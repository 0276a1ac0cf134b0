"""Seeded instances at known steps and dates, for the monitoring, operations and diagram tests; two campaigns in
the data (`two_campaigns`), for the campaign and funnel tests."""
from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import delete, select

import handlers
from engine.campaign.campaigns import school_year_of
from engine.models import Campaign, Deployment, Establishment, ProcessInstance, TaskRow, VolunteerMission
from engine.ops.operations import InstanceOperations
from engine.runtime.deployment import current_deployment, deploy, read_definition_files
from engine.runtime.runtime import RuntimeSettings

from conftest import ROOT, SAMPLES, principal_of

SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
UAI = {"rennes": "0350781J", "brest": "0291652N", "pontivy": "0561433D", "paris": "0754025T"}
# When the dashboard is read in these tests.
NOW = datetime(2027, 3, 12, 10, 0)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def with_due_dates(files: dict[str, str], durations: dict[str, str | None],
                   filename: str = "processes/hosting_project.bpmn") -> dict[str, str]:
    """The files with the `dueIn` property of some user tasks of a BPMN file set, or taken out (None), as an analyst
    would."""
    root = etree.fromstring(files[filename].encode("utf-8"))
    for task_id, duration in durations.items():
        task = root.find(f".//{{{BPMN}}}userTask[@id='{task_id}']")
        properties = task.find(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}properties")
        for existing in properties.findall(f"{{{SPIFF}}}property[@name='dueIn']"):
            properties.remove(existing)
        if duration is not None:
            etree.SubElement(properties, f"{{{SPIFF}}}property", name="dueIn", value=duration)
    changed = dict(files)
    changed[filename] = etree.tostring(root, encoding="unicode")
    return changed


def deploy_with_due_dates(session) -> Deployment:
    """A new version of the processes where designing is due in 7 days and reviewing in 14."""
    files = with_due_dates(read_definition_files(ROOT / "processes", ROOT / "forms"),
                           {"design_project": "P7D", "review_project": "P14D"})
    deployment = deploy(session, files, actor="analyste")
    session.commit()
    return deployment


def sample(name: str, **changes) -> dict:
    """A valid submission of a form, with some fields changed."""
    data = copy.deepcopy(SAMPLES[name])
    data.update(changes)
    return data


def school(session, city: str) -> Establishment:
    """A demo establishment."""
    return session.scalar(select(Establishment).where(Establishment.uai == UAI[city]))


def ready(session, instance_id: int, spec_id: str | None = None) -> list[TaskRow]:
    """Ready task rows of an instance (of one step)."""
    query = select(TaskRow).where(TaskRow.instance_id == instance_id, TaskRow.state == "ready")
    if spec_id:
        query = query.where(TaskRow.spec_id == spec_id)
    return list(session.scalars(query.order_by(TaskRow.place, TaskRow.created_at)))


@dataclass
class Seeded:
    """The seeded instances by name, the runtime and its clock, and the version they run on."""

    runtime: InstanceOperations
    clock: Clock
    deployment: Deployment
    instances: dict[str, ProcessInstance] = field(default_factory=dict)

    def do(self, name: str, login: str, spec_id: str, data: dict, at: datetime | None = None) -> None:
        """Complete the first ready task `spec_id` of a seeded instance as `login` (at a given moment)."""
        if at is not None:
            self.clock.moment = at
        session = self.runtime.session
        row = ready(session, self.instances[name].id, spec_id)[0]
        self.runtime.complete(row.id, principal_of(session, login), data)

    def start(self, name: str, city: str, at: datetime, campaign: str) -> ProcessInstance:
        """Start a hosting project of a school at a given moment."""
        self.clock.moment = at
        session = self.runtime.session
        instance = self.runtime.start("hosting_project", principal_of(session, f"referent.{city}"),
                                      establishment=school(session, city), campaign=campaign)
        self.instances[name] = instance
        return instance


def seed(session, tmp_path: Path, shift: timedelta = timedelta(0)) -> Seeded:
    """Projects at known steps since known dates (now: 12 March 2027, 10:00).

    - design_project (due in 7 days): rennes since 1 March, rennes-suspended since 2 March (suspended on
      11 March), paris since 3 March, brest-a since 5 March, pontivy (CNEAP) since 10 March — overdue: all but
      pontivy;
    - review_project (due in 14 days): brest-b since 8 March (due 22 March);
    - refused: rennes-refused (ended 9 March); terminated: paris-terminated (ended 11 March);
    - incident at check_school_file_task: brest-incident (9 March).

    `shift` moves every date (the demo's screenshots seed the same story up to today).
    """
    deployment = deploy_with_due_dates(session)
    clock = Clock(datetime(2027, 3, 1, 9, 0) + shift)
    seeded = Seeded(InstanceOperations(session, RuntimeSettings(tmp_path / "documents"), clock=clock), clock, deployment)
    pilote = principal_of(session, "pilote")
    seeded.start("rennes", "rennes", datetime(2027, 3, 1, 9, 0) + shift, "2027-2028")
    seeded.start("rennes-suspended", "rennes", datetime(2027, 3, 2, 9, 0) + shift, "2026-2027")
    seeded.start("paris", "paris", datetime(2027, 3, 3, 9, 0) + shift, "2027-2028")
    seeded.start("brest-a", "brest", datetime(2027, 3, 5, 9, 0) + shift, "2027-2028")
    seeded.start("brest-b", "brest", datetime(2027, 3, 6, 9, 0) + shift, "2026-2027")
    seeded.do("brest-b", "referent.brest", "design_project", sample("design_project"),
              datetime(2027, 3, 8, 9, 0) + shift)
    seeded.start("rennes-refused", "rennes", datetime(2027, 3, 7, 9, 0) + shift, "2025-2026")
    seeded.do("rennes-refused", "referent.rennes", "design_project", sample("design_project"),
              datetime(2027, 3, 8, 9, 0) + shift)
    seeded.do("rennes-refused", "gestionnaire.udogec35", "review_project",
              sample("review_project", decision="refuse", comment="Projet hors du cadre du Service Civique."),
              datetime(2027, 3, 9, 9, 0) + shift)
    seeded.start("paris-terminated", "paris", datetime(2027, 3, 8, 9, 0) + shift, "2026-2027")
    clock.moment = datetime(2027, 3, 11, 9, 0) + shift
    seeded.runtime.terminate(seeded.instances["paris-terminated"], pilote, "Établissement fermé.")
    seeded.start("brest-incident", "brest", datetime(2027, 3, 9, 8, 0) + shift, "2025-2026")

    def broken(_context, **_params):
        raise handlers.context.HandlerError("Annuaire injoignable (délai dépassé).")

    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(handlers.HANDLERS, "check_school_file", broken)
        seeded.do("brest-incident", "referent.brest", "design_project", sample("design_project"),
                  datetime(2027, 3, 9, 9, 0) + shift)
    seeded.start("pontivy", "pontivy", datetime(2027, 3, 10, 9, 0) + shift, "2027-2028")
    clock.moment = datetime(2027, 3, 11, 10, 0) + shift
    seeded.runtime.suspend(seeded.instances["rennes-suspended"], pilote, "Changement de chef d'établissement.")
    clock.moment = NOW + shift
    return seeded


# Two campaigns in the data, at known stages and dates: the campaign in progress (2026-2027) and the one in
# preparation (2027-2028), read on 12 May 2027. Rows are written as the runtime leaves them (instances, task rows,
# the register of missions) without playing each path: the funnel reads only these tables, and dates must be exact.
CAMPAIGN_DAY = date(2027, 5, 12)


def campaigns(session, today: date = CAMPAIGN_DAY) -> dict[str, Campaign]:
    """Instead of the demo's, the campaigns of the school year before today's and of today's, both closed, and of
    the next one, open (2025-2026, 2026-2027 and 2027-2028 on 12 May 2027); the open one's deadline still ahead."""
    session.execute(delete(Campaign))
    made = {}
    current = int(school_year_of(today)[:4])
    for first in (current - 1, current, current + 1):
        year, is_open = f"{first}-{first + 1}", first > current
        deadline = max(date(first, 5, 31), today + timedelta(days=30)) if is_open else date(first, 5, 31)
        made[year] = Campaign(school_year=year, pupil_count_year=year, submission_deadline=deadline,
                              earliest_start=date(first, 9, 1), latest_start=date(first + 1, 1, 31),
                              opened_at=datetime(first - 1, 10, 1),
                              closed_at=None if is_open else datetime(first, 6, 30))
        session.add(made[year])
    session.commit()
    return made


@dataclass
class Place:
    """A volunteer place of a project: the day the tuteur agreed to the candidate, the contract was confirmed, the
    mission ended (completed, or early)."""

    selected: str
    contract: str | None = None
    ended: str | None = None
    early: bool = False


def project(session, city: str, campaign: str, submitted: str | None = None, accepted: str | None = None,
            published: str | None = None, volunteers: tuple[Place, ...] = (), status: str = "running"
            ) -> ProcessInstance:
    """A hosting project of a demo school with the rows each stage leaves, on the days given (ISO dates)."""
    establishment = session.scalar(select(Establishment).where(Establishment.uai == UAI[city]))
    opened = at(submitted or f"{campaign[:4]}-01-05")
    instance = ProcessInstance(deployment_id=current_deployment(session).id, process_id="hosting_project",
                               title=f"Projet d'accueil — {establishment.name}", establishment_id=establishment.id,
                               department=establishment.department, campaign=campaign, status=status,
                               created_at=opened, updated_at=opened, version=1)
    session.add(instance)
    session.flush()

    def task(spec_id: str, created: str, completed: str | None, place: int | None = None) -> None:
        session.add(TaskRow(id=str(uuid.uuid4()), instance_id=instance.id,
                            process_id="volunteer" if place else "hosting_project", spec_id=spec_id, title=spec_id,
                            lane="referent", establishment_id=establishment.id, department=establishment.department,
                            place=place, state="completed" if completed else "ready", created_at=at(created),
                            completed_at=at(completed) if completed else None))

    if submitted:
        task("review_project", submitted, accepted)
    if accepted:
        task("publish_offer", accepted, published)
    for number, place in enumerate(volunteers, start=1):
        task("volunteer_file", place.selected, place.contract, place=number)
        if place.contract is None:
            continue
        status = ("terminated" if place.early else "completed") if place.ended else "in_progress"
        session.add(VolunteerMission(
            instance_id=instance.id, place=number, establishment_id=establishment.id,
            department=establishment.department, first_name="Léa", last_name=f"Volontaire {number}",
            birth_date="2005-03-01", start_date=date.fromisoformat(place.contract),
            end_date=date(int(campaign[5:]), 6, 30), status=status,
            ended_on=date.fromisoformat(place.ended) if place.ended else None,
            created_at=at(place.contract), updated_at=at(place.ended or place.contract)))
    session.commit()
    return instance


def at(day: str) -> datetime:
    """Ten in the morning of an ISO day."""
    return datetime.combine(date.fromisoformat(day), time(10, 0))


def two_campaigns(session) -> dict[str, ProcessInstance]:
    """The story read on 12 May 2027 (compared with 12 May 2026):

    2026-2027 (in progress): Rennes (35) submitted 2 March 2026, sent back once, accepted, published 2 April, one
    volunteer, contract in September, ended early in January; Brest (29, two places) submitted 1 April, accepted
    15 April, published 20 May (after 12 May 2026), two volunteers and contracts, the first mission completed on
    30 April 2027; Pontivy (56, CNEAP) submitted 20 May 2026, refused.
    2027-2028 (in preparation): Rennes submitted 1 March 2027, accepted, published 1 April; Brest submitted 20 April;
    Paris (75) submitted 2 May, accepted 10 May; Pontivy still designing.
    """
    campaigns(session)
    made = {
        "rennes-2026": project(session, "rennes", "2026-2027", "2026-03-02", "2026-03-20", "2026-04-02",
                               (Place("2026-06-10", "2026-09-01", "2027-01-15", early=True),)),
        "brest-2026": project(session, "brest", "2026-2027", "2026-04-01", "2026-04-15", "2026-05-20",
                              (Place("2026-06-20", "2026-09-15", "2027-04-30"), Place("2026-06-22", "2026-09-16"))),
        "pontivy-2026": project(session, "pontivy", "2026-2027", "2026-05-20", status="refused"),
        "rennes-2027": project(session, "rennes", "2027-2028", "2027-03-01", "2027-03-15", "2027-04-01"),
        "brest-2027": project(session, "brest", "2027-2028", "2027-04-20"),
        "paris-2027": project(session, "paris", "2027-2028", "2027-05-02", "2027-05-10"),
        "pontivy-2027": project(session, "pontivy", "2027-2028"),
    }
    # Rennes 2026-2027 was sent back for changes once: a second review, after the first one.
    rennes = made["rennes-2026"]
    session.add(TaskRow(id=str(uuid.uuid4()), instance_id=rennes.id, process_id="hosting_project",
                        spec_id="review_project", title="review_project", lane="gestionnaire",
                        establishment_id=rennes.establishment_id, department="35", state="completed",
                        created_at=at("2026-03-15"), completed_at=at("2026-03-20")))
    session.commit()
    return made
