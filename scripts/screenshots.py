"""Screenshots of the main pages of each role, for the in-app guides and the README (`make screenshots`).

The app runs on loopback on a throwaway SQLite database with the demo data. A little of the campaign is
played first, through the engine and with past clocks, so that every page has content: Brest's project
was accepted a month ago and its first volunteer is under follow-up, Rennes's project waits for its review
past its due date, the Udogec have planned trainings. Then Debian's Chromium logs in as each role and
captures the pages at desktop (1280 px) and mobile (360 px) width, driving the rest of Rennes's campaign
between captures, into docs/screenshots/ (256-colour PNG, each under 300 KB).

The demo processes set no due date on the campaign steps; like an analyst would (`dueIn`), this script
deploys them with due dates on the review and the contract steps, so that the pages show due dates and
one late task. The guides (webapp/templates/help/guide_*.html) show these files, served by the help
blueprint from docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [--output docs/screenshots] [--only NAME ...]
"""
from __future__ import annotations

import argparse
import base64
import io
import logging
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from lxml import etree
from PIL import Image
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.access import Principal  # noqa: E402
from engine.campaign.campaigns import current_campaign  # noqa: E402
from engine.campaign.trainings import register  # noqa: E402
from engine.db import make_engine, make_session_factory, upgrade_database  # noqa: E402
from engine.demo.directory import DEMO_PASSWORD, load_demo_data  # noqa: E402
from engine.models import (  # noqa: E402
    Establishment,
    Person,
    ProcessInstance,
    Structure,
    TaskRow,
    Timer,
    TrainingSession,
    VolunteerMission,
)
from engine.runtime.deployment import deploy, read_definition_files  # noqa: E402
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings  # noqa: E402

DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 360, "height": 740}
MAX_HEIGHT = {1280: 2600, 360: 4200}
MAX_BYTES = 300 * 1024
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DUE_DATES = {"processes/hosting_project.bpmn": {"review_project": "P21D", "publish_offer": "P30D"},
             "processes/volunteer.bpmn": {"confirm_selection": "P7D", "draw_up_contract": "P14D",
                                          "confirm_contract": "P7D"}}
# Headless Chromium shows date and number fields the American way whatever the locale (« mm/dd/yyyy »,
# « 114.85 »): shown as a French browser shows them, so that the guides match what people see.
AS_IN_FRENCH = """() => { for (const input of document.querySelectorAll('input[type=date]')) {
    const [y, m, d] = input.value.split('-'); input.type = 'text';
    input.value = input.value ? `${d}/${m}/${y}` : ''; input.placeholder = 'jj/mm/aaaa'; }
  for (const input of document.querySelectorAll('input[type=number]')) {
    const value = input.value; input.type = 'text'; input.value = value.replace('.', ','); } }"""
# The innermost elements sticking out on the right, to say what makes a page scroll sideways.
WIDEST = """() => { const width = document.documentElement.clientWidth;
  const sticksOut = e => e.getBoundingClientRect().right > width + 1;
  const clipped = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true; } return false; };
  return Array.from(document.querySelectorAll('body *'))
    .filter(e => sticksOut(e) && !clipped(e)
      && (getComputedStyle(e).overflowX !== 'visible' || !Array.from(e.children).some(sticksOut)))
    .slice(0, 5).map(e => e.tagName.toLowerCase() + (typeof e.className === 'string' && e.className.trim()
      ? '.' + e.className.trim().split(/ +/).join('.') : '')
      + ' « ' + (e.textContent || '').trim().slice(0, 30) + ' »'); }"""
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def pdf_upload(name: str) -> str:
    """A small valid PDF as the data URL a file field accepts."""
    return f"data:application/pdf;name={name};base64,{base64.b64encode(PDF).decode()}"


def with_due_dates(files: dict[str, str]) -> dict[str, str]:
    """The definition files with `dueIn` on some user tasks, as an analyst would set them."""
    changed = dict(files)
    for filename, durations in DUE_DATES.items():
        root = etree.fromstring(files[filename].encode("utf-8"))
        for task_id, duration in durations.items():
            properties = root.find(f".//{{{BPMN}}}userTask[@id='{task_id}']/{{{BPMN}}}extensionElements"
                                   f"/{{{SPIFF}}}properties")
            etree.SubElement(properties, f"{{{SPIFF}}}property", name="dueIn", value=duration)
        changed[filename] = etree.tostring(root, encoding="unicode")
    return changed


class Clock:
    """The engine's clock while the past of the demo is played."""

    def __init__(self):
        self.moment = datetime.now()

    def __call__(self) -> datetime:
        return self.moment


class Campaign:
    """The demo campaign played through the engine: projects, volunteers, contracts, trainings."""

    def __init__(self, session, storage: Path):
        self.session = session
        self.clock = Clock()
        self.runtime = ProcessRuntime(session, RuntimeSettings(storage), clock=self.clock)
        self.campaign = current_campaign(session)
        self.start = self.campaign.earliest_start + timedelta(days=30)

    def at(self, days_ago: float) -> Campaign:
        """Set the clock `days_ago` days before now."""
        self.clock.moment = datetime.now().replace(microsecond=0) - timedelta(days=days_ago)
        return self

    def principal(self, login: str) -> Principal:
        """Scopes of a demo account."""
        return Principal.of(self.session.scalar(select(Person).where(Person.login == login)))

    def school(self, uai: str) -> Establishment:
        """A demo school by UAI."""
        return self.session.scalar(select(Establishment).where(Establishment.uai == uai))

    def start_project(self, login: str, uai: str) -> ProcessInstance:
        """The référent starts the school's hosting project."""
        return self.runtime.start("hosting_project", self.principal(login), establishment=self.school(uai),
                                  campaign=self.campaign.school_year)

    def ready(self, instance: ProcessInstance, spec_id: str, place: int | None = None) -> TaskRow:
        """The ready task of a step (and place) of an instance."""
        query = select(TaskRow).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready",
                                      TaskRow.spec_id == spec_id)
        if place is not None:
            query = query.where(TaskRow.place == place)
        row = self.session.scalar(query.order_by(TaskRow.created_at))
        if row is None:
            raise RuntimeError(f"{spec_id} n'est pas à faire dans le dossier {instance.id}")
        return row

    def do(self, instance: ProcessInstance, spec_id: str, login: str, data: dict, place: int | None = None) -> None:
        """Complete a step as `login`."""
        self.runtime.complete(self.ready(instance, spec_id, place).id, self.principal(login), data)
        self.session.refresh(instance)
        if instance.incident:
            raise RuntimeError(f"incident dans le dossier {instance.id} : {instance.incident}")

    def fire_timers(self, instance: ProcessInstance, until: datetime) -> None:
        """Let the timers of an instance fire up to a moment (monthly follow-ups)."""
        self.clock.moment = until
        for _ in range(200):
            # The engine fires the timers due strictly before its clock.
            task_id = self.session.scalar(select(Timer.task_id).where(
                Timer.instance_id == instance.id, Timer.due_at < until).order_by(Timer.due_at, Timer.id))
            if task_id is None:
                return
            self.runtime.fire_timers(instance, task_id)
            self.session.refresh(instance)
        raise RuntimeError("une minuterie se déclenche sans fin")

    def project(self, places: int) -> dict:
        """A hosting project's form."""
        return {"title": "Aide aux devoirs et accompagnement des élèves", "theme": "education",
                "description": "Accompagner les élèves dans leur travail personnel et animer des temps d'entraide.",
                "activities": "Animation de l'étude du soir, soutien en petits groupes, tutorat entre élèves.",
                "places_requested": places, "desired_start_date": self.start.isoformat(), "duration_months": 8,
                "weekly_hours": 28, "open_to_minors": False, "reduced_mobility_access": True}

    def candidate(self, first: str, last: str) -> dict:
        """The référent's choice of a candidate."""
        return {"candidate_first_name": first, "candidate_last_name": last,
                "candidate_email": f"{first.lower()}.{last.lower()}@example.fr", "candidate_phone": "06 12 34 56 78",
                "interview_date": (self.clock.moment.date() - timedelta(days=3)).isoformat(), "candidates_met": 3,
                "reasons": "Motivation et expérience de l'animation auprès des jeunes."}

    def volunteer(self, first: str, last: str, city: str) -> dict:
        """A volunteer file."""
        end = self.start + timedelta(days=240)
        return {"first_name": first, "last_name": last, "birth_date": date(self.start.year - 20, 3, 12).isoformat(),
                "birth_place": "Vannes", "nationality_status": "french", "email": f"{first.lower()}@example.fr",
                "phone": "+33 6 12 34 56 78", "address": "12 rue de la République", "postal_code": "35000",
                "city": "Rennes", "education_level": "bac", "disability": False, "social_criteria": "none",
                "start_date": self.start.isoformat(), "end_date": end.isoformat(), "weekly_hours": 28,
                "tutor": f"tuteur.{city}", "cotutor": f"cotuteur.{city}", "mission_theme": "education",
                "mission_description": "Accompagner les élèves dans leur travail personnel.",
                "identity_document": pdf_upload("piece-identite.pdf")}

    def contract(self, school: str) -> dict:
        """A contract's terms."""
        return {"contract_start_date": self.start.isoformat(),
                "contract_end_date": (self.start + timedelta(days=240)).isoformat(), "host_complement_amount": 114.85,
                "host_complement_in_kind": False, "mission_place": school}

    def signed(self) -> dict:
        """The signed copy of a contract."""
        return {"signed_contract": pdf_upload("contrat-signe.pdf"),
                "signed_on": (self.clock.moment.date() - timedelta(days=1)).isoformat()}

    def plan_training(self, login: str, structure_code: str, data: dict) -> None:
        """A gestionnaire plans a training session."""
        structure = self.session.scalar(select(Structure).where(Structure.code == structure_code))
        instance = self.runtime.start("training", self.principal(login), structure=structure,
                                      campaign=self.campaign.school_year)
        self.do(instance, "plan_training", login, data)


def play_the_past(demo: Campaign) -> dict[str, ProcessInstance]:
    """Brest accepted with its first volunteer under contract, Rennes waiting for its review past its due date,
    Paris just started, and trainings planned by the Udogec."""
    brest = demo.at(40).start_project("referent.brest", "0291652N")
    demo.do(brest, "design_project", "referent.brest", demo.project(2))
    demo.at(37).do(brest, "review_project", "gestionnaire.udogec29",
                   {"decision": "accept", "places_granted": 2, "comment": "Projet clair et bien construit."})
    demo.at(36).do(brest, "publish_offer", "referent.brest", {
        "offer_reference": "SC-2027-004512", "published_on": demo.clock.moment.date().isoformat(),
        "offer_url": "https://www.service-civique.gouv.fr/trouver-ma-mission/aide-aux-devoirs-004512"})
    demo.at(30).do(brest, "select_volunteer", "referent.brest", demo.candidate("Yann", "Le Roux"), place=1)
    demo.at(29).do(brest, "confirm_selection", "tuteur.brest", {"agree": True, "comment": "Très motivé."}, place=1)
    demo.at(27).do(brest, "volunteer_file", "referent.brest", demo.volunteer("Yann", "Le Roux", "brest"), place=1)
    demo.at(24).do(brest, "draw_up_contract", "gestionnaire.udogec29",
                   demo.contract("Lycée Sainte-Anne, 20 rue Jean Jaurès, 29200 Brest"), place=1)
    demo.at(20).do(brest, "upload_signed_contract", "referent.brest", demo.signed(), place=1)
    demo.at(18).do(brest, "confirm_contract", "gestionnaire.udogec29", {"decision": "confirm"}, place=1)
    demo.at(3).do(brest, "select_volunteer", "referent.brest", demo.candidate("Maëlle", "Cadiou"), place=2)

    rennes = demo.at(26).start_project("referent.rennes", "0350781J")
    demo.at(25).do(rennes, "design_project", "referent.rennes", demo.project(1))
    paris = demo.at(2).start_project("referent.paris", "0754025T")

    soon = date.today() + timedelta(days=24)
    demo.at(5).plan_training("gestionnaire.udogec35", "UDOGEC-35", {
        "kind": "fcc", "title": f"Formation civique et citoyenne – {soon.year}", "session_date": soon.isoformat(),
        "place": "Maison diocésaine, 45 rue de Brest, 35000 Rennes", "capacity": 30, "audience": "volunteers"})
    demo.plan_training("gestionnaire.udogec35", "UDOGEC-35", {
        "kind": "tutor_training", "title": "Formation des tuteurs – Ille-et-Vilaine",
        "session_date": (soon + timedelta(days=7)).isoformat(), "place": "Udogec 35, 1 rue du Breil, 35000 Rennes",
        "capacity": 20, "audience": "tutors"})
    demo.plan_training("gestionnaire.udogec29", "UDOGEC-29", {
        "kind": "psc1", "title": "Premiers secours citoyen – Finistère", "session_date": soon.isoformat(),
        "place": "Lycée Sainte-Anne, 20 rue Jean Jaurès, 29200 Brest", "capacity": 12, "audience": "volunteers"})
    return {"brest": brest, "rennes": rennes, "paris": paris}


@dataclass
class Shot:
    """One page to capture: file name (without width), account, address, widths, and how much to show."""

    name: str
    login: str
    path: str
    widths: tuple[int, ...] = (1280,)
    full_page: bool = True


class Camera:
    """Chromium logged in as each account, one context per account and width."""

    def __init__(self, playwright, base: str, output: Path, only: set[str]):
        self.browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-background-networking", "--lang=fr-FR"])
        self.base = base
        self.output = output
        self.only = only
        self.pages: dict[tuple[str, int], object] = {}
        self.taken: list[Path] = []

    def page(self, login: str, width: int):
        """A page logged in as `login` at a width."""
        key = (login, width)
        if key not in self.pages:
            context = self.browser.new_context(viewport=DESKTOP if width == 1280 else MOBILE, locale="fr-FR")
            page = context.new_page()
            page.route("https://**/*", lambda route: route.abort())
            page.goto(f"{self.base}/connexion")
            page.fill("input[name=login]", login)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{self.base}/")
            self.pages[key] = page
        return self.pages[key]

    def shoot(self, shot: Shot, prepare=None) -> None:
        """Open the page at each width (then `prepare(page)`, if given) and save it."""
        if self.only and shot.name not in self.only:
            return
        for width in shot.widths:
            page = self.page(shot.login, width)
            page.goto(self.base + shot.path)
            page.wait_for_load_state("networkidle")
            if prepare is not None:
                prepare(page)
            self.save(page, f"{shot.name}-{width}.png", width, shot.full_page)

    def save(self, page, filename: str, width: int, full_page: bool = True) -> None:
        """Capture the page (at most MAX_HEIGHT tall), reduced to 256 colours; warn about horizontal scroll."""
        page.evaluate(AS_IN_FRENCH)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            culprits = page.evaluate(WIDEST)
            print(f"  attention : {filename} défile horizontalement ({overflow} px de trop) : {', '.join(culprits)}")
        height = page.evaluate("document.documentElement.scrollHeight") if full_page else page.viewport_size["height"]
        png = page.screenshot(full_page=full_page, clip={"x": 0, "y": 0, "width": width,
                                                         "height": min(height, MAX_HEIGHT[width])})
        image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                                    dither=Image.Dither.NONE)
        path = self.output / filename
        image.save(path, optimize=True)
        size = path.stat().st_size
        print(f"  {filename} : {image.width} × {image.height}, {size // 1024} Ko"
              + ("  (plus de 300 Ko !)" if size > MAX_BYTES else ""))
        self.taken.append(path)

    def task_path(self, session, instance: ProcessInstance, spec_id: str, place: int | None = None) -> str:
        """The address of a ready task's page."""
        query = select(TaskRow.id).where(TaskRow.instance_id == instance.id, TaskRow.state == "ready",
                                         TaskRow.spec_id == spec_id)
        if place is not None:
            query = query.where(TaskRow.place == place)
        return f"/taches/{session.scalar(query)}"

    def close(self) -> None:
        """Close the browser."""
        self.browser.close()


def hold_submission(page) -> None:
    """Click the form's main button with navigation prevented, to show its busy state."""
    page.evaluate("""() => document.querySelector('form[data-busy-form]')
        .addEventListener('submit', event => event.preventDefault())""")
    page.click("form[data-busy-form] button[data-busy-label]")
    page.wait_for_selector("form[aria-busy=true]")


def choose(value: str, comment: str | None = None):
    """Choose a decision (and write a comment), then send the form: the next page is the confirmation."""
    def prepare(page):
        if comment is not None:
            page.fill("#champ-comment", comment)
        page.check(f"input[name=decision][value={value}]")
        page.click("form[data-busy-form] button[data-busy-label]")
        page.wait_for_load_state("networkidle")
    return prepare


def capture(camera: Camera, demo: Campaign, instances: dict[str, ProcessInstance]) -> None:
    """Every capture, in the order of the campaign, playing Rennes's steps between them."""
    session = demo.session
    rennes, brest = instances["rennes"], instances["brest"]
    both = (1280, 360)
    rennes_school = demo.school("0350781J").id
    demo.at(0)
    for login, name in (("pilote", "pilote-accueil"), ("gestionnaire.udogec35", "gestionnaire-accueil")):
        camera.shoot(Shot(name, login, "/", both))
    camera.shoot(Shot("pilote-suivi", "pilote", "/suivi/"))
    camera.shoot(Shot("pilote-versions", "pilote", "/administration/processus/"))
    camera.shoot(Shot("referent-dossier-incomplet", "referent.pontivy", "/"))
    camera.shoot(Shot("referent-etablissement", "referent.rennes", f"/etablissements/{rennes_school}", both))
    review = camera.task_path(session, rennes, "review_project")
    camera.shoot(Shot("gestionnaire-instruction", "gestionnaire.udogec35", review))
    camera.shoot(Shot("gestionnaire-confirmation-refus", "gestionnaire.udogec35", review),
                 prepare=choose("refuse", "Mission de substitution à un emploi de surveillant."))
    camera.shoot(Shot("pilote-dossier", "pilote", f"/dossiers/{rennes.id}"),
                 prepare=lambda page: page.wait_for_selector("figure[data-rendered]", timeout=20000))

    demo.do(rennes, "review_project", "gestionnaire.udogec35",
            {"decision": "accept", "places_granted": 1, "comment": "Projet clair et bien construit."})
    camera.shoot(Shot("referent-accueil", "referent.rennes", "/", both))
    camera.shoot(Shot("referent-offre", "referent.rennes", camera.task_path(session, rennes, "publish_offer")))
    demo.do(rennes, "publish_offer", "referent.rennes", {
        "offer_reference": "SC-2027-001234", "published_on": date.today().isoformat(),
        "offer_url": "https://www.service-civique.gouv.fr/trouver-ma-mission/aide-aux-devoirs-001234"})
    camera.shoot(Shot("referent-candidat", "referent.rennes", camera.task_path(session, rennes, "select_volunteer")))
    demo.do(rennes, "select_volunteer", "referent.rennes", demo.candidate("Léa", "Martin"))
    camera.shoot(Shot("tuteur-accueil", "tuteur.rennes", "/", both))
    camera.shoot(Shot("tuteur-avis", "tuteur.rennes", camera.task_path(session, rennes, "confirm_selection"), both))
    demo.do(rennes, "confirm_selection", "tuteur.rennes", {"agree": True, "comment": "Candidate très motivée."})
    camera.shoot(Shot("referent-dossier-volontaire", "referent.rennes",
                      camera.task_path(session, rennes, "volunteer_file"), full_page=False))
    demo.do(rennes, "volunteer_file", "referent.rennes", demo.volunteer("Léa", "Martin", "rennes"))
    contract = camera.task_path(session, rennes, "draw_up_contract")
    camera.shoot(Shot("gestionnaire-contrat", "gestionnaire.udogec35", contract), prepare=hold_submission)
    demo.do(rennes, "draw_up_contract", "gestionnaire.udogec35",
            demo.contract("Collège Saint-Joseph, 12 rue de Fougères, 35700 Rennes"))
    camera.shoot(Shot("referent-contrat-signe", "referent.rennes",
                      camera.task_path(session, rennes, "upload_signed_contract")))
    demo.do(rennes, "upload_signed_contract", "referent.rennes", demo.signed())
    camera.shoot(Shot("gestionnaire-confirmation-contrat", "gestionnaire.udogec35",
                      camera.task_path(session, rennes, "confirm_contract")),
                 prepare=choose("confirm"))
    demo.do(rennes, "confirm_contract", "gestionnaire.udogec35", {"decision": "confirm"})
    camera.shoot(Shot("referent-dossier", "referent.rennes", f"/dossiers/{rennes.id}", both))

    trainings = {t.kind: t for t in session.scalars(select(TrainingSession).where(
        TrainingSession.structure_code == "UDOGEC-35"))}
    fcc, tutor_session = trainings["fcc"].id, trainings["tutor_training"].id
    # The référent registers Léa to the civic training: the organiser's page lists her.
    mission = session.scalar(select(VolunteerMission).where(VolunteerMission.instance_id == rennes.id))
    register(session, demo.principal("referent.rennes"), trainings["fcc"], datetime.now(), mission=mission)
    camera.shoot(Shot("formations", "tuteur.rennes", "/formations/", both))
    camera.shoot(Shot("tuteur-formation", "tuteur.rennes", f"/formations/{tutor_session}"))
    camera.shoot(Shot("gestionnaire-formation", "gestionnaire.udogec35", f"/formations/{fcc}"))
    camera.shoot(Shot("referent-fin-mission", "referent.brest", f"/dossiers/{brest.id}/places/1/fin"))
    camera.shoot(Shot("referent-projet", "referent.paris", camera.task_path(session, instances["paris"],
                                                                            "design_project"), both))
    demo.fire_timers(brest, datetime.combine(demo.start + timedelta(days=32), datetime.min.time()).replace(hour=12))
    camera.shoot(Shot("tuteur-suivi", "tuteur.brest", camera.task_path(session, brest, "record_follow_up")))
    camera.shoot(Shot("aide", "referent.rennes", "/aide/", both))


def main(argv: list[str] | None = None) -> int:
    """Build the demo, serve it on loopback, capture every page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", nargs="*", default=[], help="noms des captures à refaire (par défaut : toutes)")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="captures-"))
    url = f"sqlite:///{workdir / 'demo.db'}"
    try:
        upgrade_database(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with sessions() as session:
            deploy(session, with_due_dates(read_definition_files(ROOT / "processes", ROOT / "forms")),
                   actor="captures")
            session.commit()
            load_demo_data(session)
            demo = Campaign(session, workdir / "documents")
            print("Campagne de démonstration jouée jusqu'à aujourd'hui…")
            instances = play_the_past(demo)
            from webapp import create_app

            os.environ.setdefault("LOG_LEVEL", "WARNING")

            app = create_app({"DATABASE_URL": url, "STORAGE_DIR": workdir / "documents", "SECRET_KEY": "captures",
                              "DEMO": True, "SESSION_COOKIE_SECURE": False, "RUN_WORKER_IN_PROCESS": False})
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            server = make_server("127.0.0.1", 0, app, threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                with sync_playwright() as playwright:
                    camera = Camera(playwright, f"http://127.0.0.1:{server.server_port}", args.output,
                                    set(args.only))
                    try:
                        capture(camera, demo, instances)
                    finally:
                        camera.close()
            finally:
                server.shutdown()
                thread.join()
                app.extensions["db_engine"].dispose()
        engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{len(camera.taken)} captures dans {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
