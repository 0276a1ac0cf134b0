"""Screenshots of the main pages of each role, for the in-app guides and the README (`make screenshots`).

The app runs on loopback on a throwaway SQLite database built as `flask setup` builds it for `make run`:
migrated, the processes deployed as they are (with their own `dueIn` deadlines), the demo story
(`engine/demo/story.py`) played up to today, then the demo data loaded. Debian's Chromium logs in as the
accounts of the day's path (`engine.demo.cast.DEMO_PATH`, README « Comptes de démonstration ») and captures
their pages at desktop (1280 px) and mobile (360 px) width into docs/screenshots/ (256-colour PNG, each under
300 KB); only the last shots go one step further (a contract drawn up, for the signed copy's page).

The guides (webapp/templates/help/guide_*.html) show these files, served by the help blueprint from
docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [--output docs/screenshots] [--only NAME ...]
"""
from __future__ import annotations

import argparse
import io
import logging
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.db import make_engine, make_session_factory, upgrade_database  # noqa: E402
from engine.demo.cast import SCHOOLS  # noqa: E402
from engine.demo.directory import DEMO_PASSWORD, load_demo_data  # noqa: E402
from engine.demo.story import play_demo_story  # noqa: E402
from engine.models import (  # noqa: E402
    Establishment,
    ProcessInstance,
    TaskRow,
    TrainingSession,
    VolunteerMission,
)
from engine.runtime.deployment import deploy, read_definition_files  # noqa: E402

DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 360, "height": 740}
MAX_HEIGHT = {1280: 2600, 360: 4200}
MAX_BYTES = 300 * 1024
# Headless Chromium shows date and number fields the American way whatever the locale (« mm/dd/yyyy »,
# « 114.85 »): shown as a French browser shows them, so that the guides match what people see.
AS_IN_FRENCH = """() => { for (const input of document.querySelectorAll('input[type=date]')) {
    const [y, m, d] = input.value.split('-'); input.type = 'text';
    input.value = input.value ? `${d}/${m}/${y}` : ''; input.placeholder = 'jj/mm/aaaa'; }
  for (const input of document.querySelectorAll('input[type=datetime-local]')) {
    const [day, time] = input.value.split('T'); const [y, m, d] = day.split('-'); input.type = 'text';
    input.value = input.value ? `${d}/${m}/${y} ${time.slice(0, 5)}` : ''; }
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
@dataclass
class Shot:
    """One page to capture: file name (without width), account, address, widths, and how much to show."""

    name: str
    login: str
    path: str
    widths: tuple[int, ...] = (1280,)
    full_page: bool = True
    section: str | None = None


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
            self.save(page, f"{shot.name}-{width}.png", width, shot.full_page, shot.section)

    def save(self, page, filename: str, width: int, full_page: bool = True, section: str | None = None) -> None:
        """Capture the page, or only the element `section` (at most MAX_HEIGHT tall), reduced to 256 colours;
        warn about horizontal scroll."""
        page.evaluate(AS_IN_FRENCH)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            culprits = page.evaluate(WIDEST)
            print(f"  attention : {filename} défile horizontalement ({overflow} px de trop) : {', '.join(culprits)}")
        top = 0
        if section is not None:
            box = page.evaluate("""selector => { const box = document.querySelector(selector).getBoundingClientRect();
                return {top: box.top + window.scrollY, height: box.height}; }""", section)
            top, height = max(0, box["top"] - 16), box["height"] + 32
        elif full_page:
            height = page.evaluate("document.documentElement.scrollHeight")
        else:
            height = page.viewport_size["height"]
        png = page.screenshot(full_page=full_page, clip={"x": 0, "y": top, "width": width,
                                                         "height": min(height, MAX_HEIGHT[width])})
        image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                                    dither=Image.Dither.NONE)
        path = self.output / filename
        image.save(path, optimize=True)
        size = path.stat().st_size
        print(f"  {filename} : {image.width} × {image.height}, {size // 1024} Ko"
              + ("  (plus de 300 Ko !)" if size > MAX_BYTES else ""))
        self.taken.append(path)

    def close(self) -> None:
        """Close the browser."""
        self.browser.close()


def school(session, key: str) -> Establishment:
    """A demo school by its key in the cast (`rennes`, `brest`…)."""
    return session.scalars(select(Establishment).where(Establishment.uai == SCHOOLS[key]["uai"])).one()


def task_path(session, key: str, spec_id: str, place: int | None = None) -> str:
    """The address of a school's ready task (of a place), the oldest first."""
    query = select(TaskRow.id).where(TaskRow.establishment_id == school(session, key).id, TaskRow.state == "ready",
                                     TaskRow.spec_id == spec_id)
    if place is not None:
        query = query.where(TaskRow.place == place)
    task_id = session.scalars(query.order_by(TaskRow.created_at)).first()
    if task_id is None:
        raise RuntimeError(f"{spec_id} n'est pas à faire pour l'établissement {key} : l'histoire a changé ?")
    return f"/taches/{task_id}"


def project(session, key: str, *, in_mission: bool = False) -> ProcessInstance:
    """A school's running hosting project: the one with volunteers in mission, or the one in preparation."""
    query = select(ProcessInstance).where(ProcessInstance.establishment_id == school(session, key).id,
                                          ProcessInstance.process_id == "hosting_project",
                                          ProcessInstance.status == "running")
    with_missions = ProcessInstance.id.in_(select(VolunteerMission.instance_id).where(
        VolunteerMission.status == "in_progress"))
    return session.scalars(query.where(with_missions if in_mission else ~with_missions)
                           .order_by(ProcessInstance.id.desc())).first()


def training(session, structure: str, kind: str) -> TrainingSession:
    """The latest training session of a kind organised by a structure."""
    return session.scalars(select(TrainingSession).where(TrainingSession.structure_code == structure,
                                                         TrainingSession.kind == kind)
                           .order_by(TrainingSession.session_date.desc())).first()


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


def fold_details(page) -> None:
    """Fold the tables by territory and by network under the campaigns' charts."""
    page.evaluate("() => document.querySelectorAll('.funnels details[open]').forEach(d => d.open = false)")


def open_timer_actions(page) -> None:
    """Unfold the first « Déclencher maintenant ou déplacer cette échéance »."""
    page.click("details.timer-actions summary")


def play_scenarios(page) -> None:
    """Play every scenario on the coverage page and wait for its diagrams."""
    page.click("form[data-busy-form] button[data-busy-label]")
    page.wait_for_selector("figure[data-rendered]", timeout=120_000)


def capture(camera: Camera, session) -> None:
    """Every capture, in the order of the campaign's steps, on the accounts of the day's path (DEMO_PATH)."""
    both = (1280, 360)
    diagram = "figure[data-rendered]"
    # Homes, dashboard and administration.
    for login, name in (("pilote", "pilote-accueil"), ("gestionnaire.udogec35", "gestionnaire-accueil")):
        camera.shoot(Shot(name, login, "/", both))
    camera.shoot(Shot("pilote-suivi", "pilote", "/suivi/"))
    camera.shoot(Shot("pilote-campagnes", "pilote", "/suivi/", both, section=".funnels"), prepare=fold_details)
    camera.shoot(Shot("pilote-versions", "pilote", "/administration/processus/"))
    camera.shoot(Shot("pilote-couverture", "pilote", "/administration/processus/couverture"), prepare=play_scenarios)
    # Step 1: the school file, the project form.
    camera.shoot(Shot("referent-dossier-incomplet", "referent.pontivy", "/"))
    camera.shoot(Shot("referent-etablissement", "referent.rennes", f"/etablissements/{school(session, 'rennes').id}",
                      both))
    camera.shoot(Shot("referent-projet", "referent.morlaix", task_path(session, "morlaix", "design_project"), both))
    # Step 2: the review of Vitré's project, and its dossier as the pilote sees it.
    review = task_path(session, "vitre", "review_project")
    camera.shoot(Shot("gestionnaire-instruction", "gestionnaire.udogec35", review))
    camera.shoot(Shot("gestionnaire-confirmation-refus", "gestionnaire.udogec35", review),
                 prepare=choose("refuse", "Mission de substitution à un emploi de surveillant."))
    camera.shoot(Shot("pilote-dossier", "pilote", f"/dossiers/{project(session, 'vitre').id}"),
                 prepare=lambda page: page.wait_for_selector(diagram, timeout=20000))
    # Step 3: Brest publishes its offer.
    camera.shoot(Shot("referent-accueil", "referent.brest", "/", both))
    camera.shoot(Shot("referent-offre", "referent.brest", task_path(session, "brest", "publish_offer")))
    # Steps 4 and 5: Paris's candidate and its tutor's opinion, Quimper's volunteer file.
    camera.shoot(Shot("referent-candidat", "referent.paris", task_path(session, "paris", "select_volunteer", 1)))
    camera.shoot(Shot("tuteur-avis", "tuteur.paris", task_path(session, "paris", "confirm_selection", 2), both))
    camera.shoot(Shot("referent-dossier-volontaire", "referent.quimper", task_path(session, "quimper", "volunteer_file"),
                      full_page=False))
    # Step 6: Saint-Aubin's contracts.
    camera.shoot(Shot("gestionnaire-confirmation-contrat", "gestionnaire.udogec35",
                      task_path(session, "saint-aubin", "confirm_contract", 2)), prepare=choose("confirm"))
    contract = task_path(session, "saint-aubin", "draw_up_contract", 1)
    camera.shoot(Shot("gestionnaire-contrat", "gestionnaire.udogec35", contract), prepare=hold_submission)
    # Step 7: the follow-up of the missions in progress.
    camera.shoot(Shot("tuteur-accueil", "tuteur.rennes", "/", both))
    camera.shoot(Shot("tuteur-suivi-mensuel", "tuteur.rennes", task_path(session, "rennes", "record_follow_up"),
                      both))
    camera.shoot(Shot("referent-dossier", "referent.rennes", f"/dossiers/{project(session, 'rennes', in_mission=True).id}",
                      both))
    brest = project(session, "brest", in_mission=True)
    # School staff read what comes next on their plain dossier page; gestionnaires and owners steer the timers.
    camera.shoot(Shot("referent-echeances", "referent.brest", f"/dossiers/{brest.id}", both,
                      section="section[aria-labelledby=titre-ensuite]"))
    camera.shoot(Shot("pilote-echeances", "pilote", f"/dossiers/{brest.id}", section="section[aria-labelledby="
                      "titre-echeances]"), prepare=open_timer_actions)
    camera.shoot(Shot("referent-mi-mission", "referent.brest", task_path(session, "brest", "mid_mission_review")))
    camera.shoot(Shot("cotuteur-bilan", "cotuteur.quimper", task_path(session, "quimper", "end_of_mission_report"),
                      both))
    place = session.scalars(select(VolunteerMission.place).where(VolunteerMission.instance_id == brest.id,
                                                                 VolunteerMission.status == "in_progress")).first()
    camera.shoot(Shot("referent-fin-mission", "referent.brest", f"/dossiers/{brest.id}/places/{place}/fin"))
    # Step 8: trainings.
    camera.shoot(Shot("formations", "tuteur.rennes", "/formations/", both))
    camera.shoot(Shot("tuteur-formation", "tuteur.rennes",
                      f"/formations/{training(session, 'UDOGEC-35', 'tutor_training').id}"))
    camera.shoot(Shot("gestionnaire-formation", "gestionnaire.udogec29",
                      f"/formations/{training(session, 'UDOGEC-29', 'fcc').id}"))
    camera.shoot(Shot("gestionnaire-presences", "gestionnaire.udogec35",
                      f"/formations/{training(session, 'UDOGEC-35', 'psc1').id}", both))
    camera.shoot(Shot("aide", "referent.rennes", "/aide/", both))
    # Last, one step further: Saint-Aubin's contract drawn up, the référent has its signed copy to upload.
    if not camera.only or "referent-contrat-signe" in camera.only:
        page = camera.page("gestionnaire.udogec35", 1280)
        page.goto(camera.base + contract)
        page.click("form[data-busy-form] button[data-busy-label]")
        page.wait_for_url(lambda url: contract not in url, timeout=60000)
        session.expire_all()
        camera.shoot(Shot("referent-contrat-signe", "referent.saint-aubin",
                          task_path(session, "saint-aubin", "upload_signed_contract", 1)))


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
            # As `flask setup` does for `make run`: the processes as they are, the story up to now, the demo data.
            deploy(session, read_definition_files(ROOT / "processes", ROOT / "forms"), actor="captures")
            session.commit()
            for name in ("engine.runtime", "weasyprint"):
                logging.getLogger(name).setLevel(logging.WARNING)
            print("Histoire de démonstration jouée jusqu'à aujourd'hui…")
            play_demo_story(session, workdir / "documents", datetime.now(), say=lambda line: None)
            load_demo_data(session)
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
                        capture(camera, session)
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
