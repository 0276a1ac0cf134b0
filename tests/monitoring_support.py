"""Seeded instances at known steps and dates, for the monitoring, operations and diagram tests."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select

import handlers
from engine.models import Deployment, Establishment, ProcessInstance, TaskRow
from engine.ops.operations import InstanceOperations
from engine.runtime.deployment import deploy, read_definition_files
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


def with_due_dates(files: dict[str, str], durations: dict[str, str], filename: str = "processes/hosting_project.bpmn"
                   ) -> dict[str, str]:
    """The files with `dueIn` properties set on some user tasks of a BPMN file, as an analyst would."""
    root = etree.fromstring(files[filename].encode("utf-8"))
    for task_id, duration in durations.items():
        task = root.find(f".//{{{BPMN}}}userTask[@id='{task_id}']")
        properties = task.find(f"{{{BPMN}}}extensionElements/{{{SPIFF}}}properties")
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
