"""The demo story: a real day of the year, with the campaign in progress and the one in preparation lived at once.

`flask setup` plays it once, on a database that has neither campaign nor
dossier (`story_can_start`), so that a newcomer can play every step of a
campaign the same day. Nothing is written by hand: the story opens and closes
campaigns, starts hosting projects and trainings, completes tasks as the demo's
people (the scenario runner's steps, `engine.scenarios.runner`) and registers
volunteers, each at its moment of the past; between two moments, the timers
that fell due fire at their due time, as a worker would, and the new tasks are
announced by mail. Contracts and certificates are real PDFs.

Today (the clock given), the campaign in progress has volunteers in mission in
several schools, each showing a moment of the follow-up (`engine.demo.dates`,
which may place a mission in the campaign before when the one in progress cannot
show it yet), and training sessions past and coming; the campaign in preparation
has hosting projects at each of steps 1 to 6. Rennes has none, so that the
README's path starts there from step 1; Pontivy keeps its incomplete school
file. `engine.demo.cast` holds who does what and what they write.
"""
from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from engine.access import Principal
from engine.campaign.campaigns import (
    all_campaigns,
    close_campaign,
    open_campaign,
    school_year_of,
)
from engine.campaign.starts import start_process
from engine.campaign.trainings import missions_in, record_attendance, register, territory_of
from engine.demo.cast import (
    PREPARATION,
    PROJECTS,
    REFUSED_LAST_SPRING,
    ROLE_SCHOOLS,
    TRAININGS,
    PreparedProject,
    Training,
    Volunteer,
    early_end_form,
    follow_up_form,
    identity_document,
    medical_certificate,
    project_form,
    recruitment_form,
    volunteers,
)
from engine.demo.dates import (
    DAYS_TO_RECORD,
    CampaignDates,
    Mission,
    missions,
    past_dates,
    preparation_dates,
    session_day,
)
from engine.demo.directory import DEMO_AGREEMENT_NUMBER, ESTABLISHMENTS, MORE_ESTABLISHMENTS, load_demo_directory
from engine.demo.plan import RECRUITMENT, Place, Project
from engine.demo.timeline import DossierRun, StoryError, Timeline
from engine.documents import DocumentStore
from engine.models import (
    Document,
    Establishment,
    Notification,
    Person,
    ProcessInstance,
    Structure,
    TaskRow,
    TrainingSession,
)
from engine.runtime.notices import announce_new_tasks
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings
from engine.scenarios.runner import SettableClock
from engine.scenarios.spec import Scenario, Step
from engine.scenarios.world import Copy
from handlers.follow_up import add_months
from handlers.formats import date_fr


def story_can_start(session: Session) -> bool:
    """Whether the story may be played: no campaign and no dossier yet (a second `make run` keeps what was done)."""
    return not session.scalar(select(func.count()).select_from(ProcessInstance)) and not all_campaigns(session)


@dataclass
class StoryReport:
    """What the story left for today."""

    dossiers: int
    ready_tasks: int
    messages: int


class DemoStory:
    """The story, played once against a session, up to `now`."""

    def __init__(self, session: Session, storage_dir: Path, now: datetime, say: Callable[[str], None] = print):
        self.session = session
        self.now = now.replace(microsecond=0)
        self.today = self.now.date()
        self.say = say
        self.storage = DocumentStore(Path(storage_dir))
        self.clock = SettableClock(self.now)
        self.worker = ProcessRuntime(session, RuntimeSettings(Path(storage_dir)), clock=self.clock)
        self.copy = Copy(sessionmaker(bind=session.get_bind()), Path(storage_dir))
        self.missions = missions(self.today)
        self.preparation = preparation_dates(self.today)
        # The campaign in progress, and the one before when a mission of the story started in it.
        self.school_years = sorted({m.school_year for m in self.missions.values()} | {school_year_of(self.today)})
        self.people: dict[str, Principal] = {}
        self.schools: dict[str, Establishment] = {}
        self.volunteers = iter(volunteers(self.today))
        self.timeline = Timeline(session, self.worker, self.clock, self.now, after=self._after)
        self._steps = itertools.count(1)
        # Places under follow-up by (instance id, place number), and the follow-up tasks already looked at.
        self._follow_ups: dict[tuple[int, int], tuple[DossierRun, str, Mission]] = {}
        self._seen: set[str] = set()

    def play(self) -> StoryReport:
        """Play the story up to now and commit; raise `StoryError` when a step is refused."""
        campaigns = [past_dates(year) for year in self.school_years] + [self.preparation]
        self.say(f"Histoire de démonstration au {date_fr(self.today)} : campagne {self.school_years[-1]} en cours, "
                 f"campagne {self.preparation.school_year} en préparation.")
        # The latest count the directory knows is the current school year's: the next one does not exist yet.
        load_demo_directory(self.session, ESTABLISHMENTS + MORE_ESTABLISHMENTS, self.school_years[-1],
                            campaigns[0].opened_at - timedelta(days=30), tuple(self.school_years[:-1]))
        self.session.commit()
        self.schools = {school["key"]: self.session.scalars(select(Establishment).where(
            Establishment.uai == school["uai"])).one() for school in ESTABLISHMENTS + MORE_ESTABLISHMENTS}
        for person in self.session.scalars(select(Person)):
            self.people[person.login] = Principal.of(person)
        for dates in campaigns:
            self._campaign(dates)
        self._missions_in_progress()
        self._refused_project(campaigns[-2])
        for project in PREPARATION:
            self._prepared_project(project)
        for training in TRAININGS:
            self._training(training)
        self.timeline.run()
        return StoryReport(
            dossiers=self.session.scalar(select(func.count()).select_from(ProcessInstance)) or 0,
            ready_tasks=self.session.scalar(select(func.count()).select_from(TaskRow).where(TaskRow.state == "ready"))
            or 0,
            messages=self.session.scalar(select(func.count()).select_from(Notification)) or 0)

    # --- the timeline -------------------------------------------------------------------------------------------

    def _after(self, moment: datetime) -> None:
        """What follows any event: follow-up tasks to do later get their moment, new tasks are announced."""
        self.session.commit()
        rows = self.session.execute(select(TaskRow.id, TaskRow.instance_id, TaskRow.place, TaskRow.spec_id,
                                           TaskRow.created_at).where(
            TaskRow.state == "ready", TaskRow.spec_id.in_(DAYS_TO_RECORD))).all()
        for task_id, instance_id, place, spec_id, created_at in rows:
            if task_id in self._seen or place is None or (instance_id, place) not in self._follow_ups:
                continue
            self._seen.add(task_id)
            run, key, mission = self._follow_ups[(instance_id, place)]
            if not mission.leaves_undone(spec_id, created_at.date()):
                done_at = created_at.replace(hour=16, minute=30) + timedelta(days=DAYS_TO_RECORD[spec_id])
                self.timeline.at(done_at, self._follow_up_task(run, key, mission, task_id, spec_id, place))
        announce_new_tasks(self.session, moment, limit=10_000)

    def _follow_up_task(self, run: DossierRun, key: str, mission: Mission, task_id: str, spec_id: str,
                        place: int) -> Callable[[datetime], None]:
        def act(at: datetime) -> None:
            # The mission may have ended early since: its follow-up tasks went with it.
            if self.session.scalar(select(TaskRow.state).where(TaskRow.id == task_id)) != "ready":
                return
            data = follow_up_form(spec_id, key, at.date(), mission, self._month(task_id, mission))
            run.do(self._step(spec_id, self._actor(spec_id, key), data, place), at)
        return act

    def _month(self, task_id: str, mission: Mission) -> int:
        created = self.session.scalar(select(TaskRow.created_at).where(TaskRow.id == task_id))
        return sum(1 for day in mission.follow_up.openings if created is not None and day <= created.date())

    @staticmethod
    def _actor(spec_id: str, key: str) -> str:
        return {"mid_mission_review": f"referent.{key}", "end_of_mission_report": f"cotuteur.{key}"}.get(
            spec_id, f"tuteur.{key}")

    def _step(self, task: str, actor: str, data: dict, place: int | None = None) -> Step:
        return Step(number=next(self._steps), task=task, actor=actor, place=place, data=data)

    def _run_for(self, title: str, process: str) -> DossierRun:
        return DossierRun(Scenario(path=Path("démonstration"), name=title, process=process), self.copy, self.session)

    # --- campaigns ----------------------------------------------------------------------------------------------

    def _campaign(self, dates: CampaignDates) -> None:
        pilote = self.people["pilote"]

        def opened(at: datetime) -> None:
            open_campaign(self.session, pilote, {**dates.form(), "agreement_number": DEMO_AGREEMENT_NUMBER}, at)
            self.say(f"  {date_fr(at.date())} : campagne {dates.school_year} ouverte (dépôt jusqu'au "
                     f"{date_fr(dates.submission_deadline)}).")

        def closed(at: datetime) -> None:
            campaign = next(c for c in all_campaigns(self.session) if c.school_year == dates.school_year)
            close_campaign(self.session, pilote, campaign, at)
            self.say(f"  {date_fr(at.date())} : campagne {dates.school_year} fermée aux nouveaux projets.")

        self.timeline.at(dates.opened_at, opened)
        if dates.closed_at is not None:
            self.timeline.at(dates.closed_at, closed)

    # --- hosting projects -----------------------------------------------------------------------------------------

    def _missions_in_progress(self) -> None:
        """The projects of the campaigns lived (in progress, and the one before when a mission needs it)."""
        by_project: dict[tuple[str, str], list[Mission]] = {}
        for role, mission in self.missions.items():
            by_project.setdefault((ROLE_SCHOOLS[role], mission.school_year), []).append(mission)
        for index, ((key, school_year), planned) in enumerate(sorted(by_project.items())):
            planned.sort(key=lambda m: (m.start, m.role))
            places = [Place(number, next(self.volunteers), mission, mission.start, mission.end)
                      for number, mission in enumerate(planned, start=1)]
            # Spring of the campaign: submitted in March, reviewed, published; recruited weeks before each start.
            designed = datetime.combine(date(int(school_year[:4]), 3, 2 + index * 2), time(10, 0))
            self._hosting_project(Project(
                key, school_year, places, designed - timedelta(minutes=40), designed,
                designed + timedelta(days=9, hours=4), "accept", designed + timedelta(days=15, hours=1),
                {place.number: [datetime.combine(place.start - timedelta(days=days), at)
                                for _task, days, at in RECRUITMENT] for place in places}))

    def _refused_project(self, dates: CampaignDates) -> None:
        """A project of the campaign in progress, refused by its reviewer last spring, with the reason."""
        designed = datetime.combine(date(int(dates.school_year[:4]), 3, 24), time(10, 0))
        start = dates.earliest_start
        place = Place(1, None, None, start, add_months(start, 8) - timedelta(days=1))
        self._hosting_project(Project(REFUSED_LAST_SPRING, dates.school_year, [place], designed - timedelta(minutes=30),
                                       designed, designed + timedelta(days=8, hours=5), "refuse", None, {}))

    def _prepared_project(self, prepared: PreparedProject) -> None:
        """A project of the campaign in preparation, brought to its step some days ago."""
        midnight = datetime.combine(self.today, time(0, 0))

        def days_ago(days: int | None, hour: int) -> datetime | None:
            return None if days is None else midnight - timedelta(days=days) + timedelta(hours=hour)

        start = self.preparation.earliest_start
        end = add_months(start, 8) - timedelta(days=1)
        steps = dict(enumerate(prepared.place_steps, start=1))
        places = [Place(number, next(self.volunteers) if steps.get(number) else None, None, start, end)
                  for number in range(1, prepared.places + 1)]
        started = days_ago(prepared.started_days_ago, 9)
        assert started is not None
        self._hosting_project(Project(
            prepared.key, self.preparation.school_year, places, started, days_ago(prepared.designed_days_ago, 10),
            days_ago(prepared.reviewed_days_ago, 15), prepared.review, days_ago(prepared.published_days_ago, 11),
            {number: [midnight - timedelta(days=days) + timedelta(hours=10 + index) for index, days in enumerate(done)]
             for number, done in steps.items()}))

    def _hosting_project(self, project: Project) -> None:
        """Schedule a school's project: started, designed, reviewed, published, then each place recruited."""
        key, school = project.key, self.schools[project.key]
        referent, reviewer = f"referent.{key}", PROJECTS[key].reviewer
        run = self._run_for(f"{school.name}, campagne {project.school_year}", "hosting_project")

        def start(at: datetime) -> None:
            run.clock.moment = at
            run.instance = start_process(run.runtime, self.people[referent], "hosting_project", establishment=school,
                                         today=at.date())

        def task(name: str, actor: str) -> Callable[[datetime], None]:
            first = project.places[0]
            return lambda at: run.do(self._step(name, actor, project_form(
                name, key, at.date(), places=len(project.places), start=first.start, end=first.end,
                decision=project.review)), at)

        self.timeline.at(project.started, start)
        if project.designed is None:
            return
        self.timeline.at(project.designed, task("design_project", referent))
        if project.reviewed is None:
            return
        self.timeline.at(project.reviewed, task("review_project", reviewer))
        if project.published is None:
            return
        self.timeline.at(project.published, task("publish_offer", referent))
        for place in project.places:
            for (name, _days, _at), moment in zip(RECRUITMENT, project.recruitment.get(place.number, []),
                                                  strict=False):
                self.timeline.at(moment, self._recruitment_step(run, key, place, name))

    def _recruitment_step(self, run: DossierRun, key: str, place: Place, task: str) -> Callable[[datetime], None]:
        actor = {"confirm_selection": f"tuteur.{key}", "draw_up_contract": PROJECTS[key].reviewer,
                 "confirm_contract": PROJECTS[key].reviewer}.get(task, f"referent.{key}")
        volunteer = place.volunteer
        assert volunteer is not None, "a place is recruited for a volunteer of the story"

        def act(at: datetime) -> None:
            extra: dict = {}
            if task == "volunteer_file":
                extra["identity_document"] = _data_url(identity_document(volunteer), "piece-identite.pdf")
            elif task == "upload_signed_contract":
                extra["signed_contract"] = _data_url(self._contract(run.instance.id, place.number),
                                                     "contrat-signe.pdf")
                extra["medical_certificate"] = _data_url(medical_certificate(volunteer, at.date() - timedelta(days=3)),
                                                         "certificat-medical.pdf")
            data = recruitment_form(task, key, at.date(), volunteer, place.start, place.end)
            run.do(self._step(task, actor, {**data, **extra}, place.number), at)
            if task == "draw_up_contract":
                self.say(f"  {date_fr(at.date())} : contrat établi en PDF pour {volunteer.name} "
                         f"({run.scenario.name}).")
            elif task == "confirm_contract" and place.mission is not None:
                self._follow_ups[(run.instance.id, place.number)] = (run, key, place.mission)
                if place.mission.early_end is not None:
                    self.timeline.at(datetime.combine(place.mission.early_end, time(11, 0)),
                             self._early_end(run, key, place.number, volunteer))
        return act

    def _early_end(self, run: DossierRun, key: str, place: int, volunteer: Volunteer) -> Callable[[datetime], None]:
        def act(at: datetime) -> None:
            run.do(Step(number=next(self._steps), end_mission=place, actor=f"referent.{key}",
                        data=early_end_form(at.date())), at)
            self.say(f"  {date_fr(at.date())} : fin anticipée de la mission de {volunteer.name} "
                     f"({run.scenario.name}).")
        return act

    def _contract(self, instance_id: int, place: int) -> bytes:
        """The latest contract generated for a place: the volunteer and the school sign that one."""
        document = self.session.scalars(select(Document).where(
            Document.instance_id == instance_id, Document.kind == "contract", Document.place == place)
            .order_by(Document.id.desc())).first()
        if document is None:
            raise StoryError(f"Aucun contrat n'a été produit pour la place {place} du dossier {instance_id}.")
        return self.storage.path_of(document).read_bytes()

    # --- trainings ----------------------------------------------------------------------------------------------

    def _training(self, training: Training) -> None:
        """A session planned, its participants registered, then (for past sessions) attendance and closing."""
        day = session_day(self.today, training.days_from_today)
        organiser = training.organiser
        run = self._run_for(f"{training.title}, {date_fr(day)}", "training")
        structure = self.session.scalars(select(Structure).where(Structure.code == training.structure)).one()

        def planned(at: datetime) -> None:
            run.clock.moment = at
            run.instance = start_process(run.runtime, self.people[organiser], "training", structure=structure,
                                         today=at.date())
            run.do(self._step("plan_training", organiser, training.form(day)), at)
            self.say(f"  {date_fr(at.date())} : session « {training.title} » du {date_fr(day)} planifiée.")

        def registered(at: datetime) -> None:
            session = self._session_of(run)
            if training.self_registered:
                person = self.session.scalars(select(Person).where(Person.login == training.self_registered)).one()
                register(self.session, self.people[person.login], session, at, person=person)
                return
            for mission in missions_in(self.session, territory_of(self.session, training.structure)):
                key = next(k for k, school in self.schools.items() if school.id == mission.establishment_id)
                register(self.session, self.people[f"tuteur.{key}"], session, at, mission=mission)

        def closed(at: datetime) -> None:
            session = self._session_of(run)
            record_attendance(self.session, self.people[organiser], session,
                              {registration.id: True for registration in session.registrations}, at)
            run.do(self._step("record_attendance", organiser, {"notes": training.notes}), at)

        self.timeline.at(datetime.combine(self.today - timedelta(days=training.planned_days_ago), time(9, 30)), planned)
        self.timeline.at(datetime.combine(self.today - timedelta(days=training.registered_days_ago), time(14, 0)), registered)
        if training.closed:
            self.timeline.at(datetime.combine(day, time(17, 30)), closed)

    def _session_of(self, run: DossierRun) -> TrainingSession:
        return self.session.scalars(select(TrainingSession).where(TrainingSession.instance_id == run.instance.id)).one()


def play_demo_story(session: Session, storage_dir: Path, now: datetime,
                    say: Callable[[str], None] = print) -> StoryReport:
    """Play the demo story up to `now` on a database without campaigns or dossiers; raise `StoryError`."""
    return DemoStory(session, storage_dir, now, say).play()


def _data_url(content: bytes, filename: str) -> str:
    """A file as a form field receives it from the API."""
    return f"data:application/pdf;name={filename};base64,{base64.b64encode(content).decode()}"
