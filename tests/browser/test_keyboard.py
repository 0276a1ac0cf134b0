"""In Chromium, keyboard only: tasks reached and completed with Tab, Shift+Tab, typing, Space, arrows and Enter.

No mouse click once logged in; each control reached shows a visible focus indicator (an outline or a shadow),
and the tab order follows the form's order.
"""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from engine.models import TaskRow
from engine.runtime.runtime import ProcessRuntime, RuntimeSettings

from .conftest import field, login
from test_processes import do, sample, start_project

MAX_TABS = 40
FOCUS_INDICATOR = """element => {
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  return {outline, shadow: style.boxShadow !== 'none', what: element.outerHTML.slice(0, 120)};
}"""


@pytest.fixture(scope="module")
def projects(site):
    """Projects started through the engine: Rennes's waits for its design, Brest's for its review."""
    with site.sessions() as session:
        runtime = ProcessRuntime(session, RuntimeSettings(site.storage_dir), clock=lambda: datetime(2027, 3, 15, 10, 0))
        rennes = start_project(runtime, session, "rennes")
        brest = start_project(runtime, session, "brest")
        do(runtime, session, brest.id, "referent.brest", "design_project", sample("design_project"))
        return {"rennes": rennes.id, "brest": brest.id}


def assert_focus_visible(page: Page) -> None:
    """The focused element draws an outline or a shadow that a sighted keyboard user sees."""
    shown = page.evaluate(f"({FOCUS_INDICATOR})(document.activeElement)")
    assert shown["outline"] or shown["shadow"], f"focus invisible sur {shown['what']}"


def tab_to(page: Page, target: Locator, key: str = "Tab") -> None:
    """Press Tab (or Shift+Tab) until `target` has the focus, checking the focus is visible at each stop."""
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        assert_focus_visible(page)
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{target} n'est pas atteint au clavier en {MAX_TABS} appuis sur {key}")


def test_a_task_form_is_completed_with_the_keyboard_alone(site, page, projects):
    login(page, "referent.rennes")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    task_link = page.get_by_role("link", name="Concevoir et déposer le projet d'accueil", exact=True).first
    tab_to(page, task_link)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Concevoir et déposer le projet d'accueil")

    tab_to(page, field(page, "Intitulé de la mission"))
    page.keyboard.type("Aide aux devoirs")
    page.keyboard.press("Tab")
    theme = page.get_by_label("Domaine d'action")
    expect(theme).to_be_focused()
    # Space opens the list, the arrows go down to the third choice (Solidarité, Santé, Éducation pour tous),
    # Enter picks it.
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(theme).to_have_value("education")
    page.keyboard.press("Tab")
    page.keyboard.type("Accompagner les élèves dans leur travail personnel.")
    page.keyboard.press("Tab")
    page.keyboard.type("Étude du soir, soutien en petits groupes.")
    page.keyboard.press("Tab")
    page.keyboard.type("1")
    page.keyboard.press("Tab")
    start = field(page, "Date de début souhaitée")
    expect(start).to_be_focused()
    # Day and month alike: the date field orders them by the browser's language (Debian's Chromium without
    # its language packs shows mm/jj/aaaa), and the typing is the same either way.
    page.keyboard.type("09092027")
    expect(start).to_have_value("2027-09-09")
    tab_to(page, field(page, "Durée de la mission (en mois)"))
    page.keyboard.type("8")
    page.keyboard.press("Tab")
    page.keyboard.type("82")
    # A slip: back with Shift+Tab to the duration, then forward again to correct the weekly hours.
    tab_to(page, field(page, "Durée de la mission (en mois)"), key="Shift+Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("28")
    accessible = page.get_by_label("Accessible aux personnes à mobilité réduite")
    tab_to(page, accessible)
    page.keyboard.press("Space")
    expect(accessible).to_be_checked()
    tab_to(page, page.get_by_role("button", name="Valider et transmettre"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("status").filter(has_text="est enregistré")).to_be_visible()
    assert urlsplit(page.url).path == "/"
    # The dossier's history shows what was typed.
    page.goto(f"/dossiers/{projects['rennes']}")
    entered = page.get_by_role("definition", include_hidden=True).all_text_contents()
    for value in ("Aide aux devoirs", "Éducation pour tous", "9 septembre 2027", "8", "28"):
        assert value in entered, entered
    with site.sessions() as session:
        states = dict(session.execute(select(TaskRow.spec_id, TaskRow.state)
                                      .where(TaskRow.instance_id == projects["rennes"])).all())
        assert states["design_project"] == "completed" and states["review_project"] == "ready"
    assert page.errors == []


def test_a_choice_between_radio_buttons_is_made_with_the_arrows(site, page, projects):
    login(page, "gestionnaire.udogec29")
    task_link = page.get_by_role("link", name="Instruire le projet d'accueil", exact=True).first
    tab_to(page, task_link)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Instruire le projet d'accueil")

    accept = page.get_by_label("Accepter le projet", exact=True)
    tab_to(page, accept)
    page.keyboard.press("Space")
    expect(accept).to_be_checked()
    # Arrows move the choice within the group; back up to « Accepter le projet ».
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Demander des modifications au référent", exact=True)).to_be_checked()
    page.keyboard.press("ArrowUp")
    expect(accept).to_be_checked()
    page.keyboard.press("Tab")
    expect(field(page, "Nombre de places accordées")).to_be_focused()
    page.keyboard.type("1")
    page.keyboard.press("Tab")
    page.keyboard.type("Projet clair.")
    tab_to(page, page.get_by_role("button", name="Accepter le projet"))
    page.keyboard.press("Space")

    expect(page.get_by_role("status").filter(has_text="est enregistré")).to_be_visible()
    with site.sessions() as session:
        states = dict(session.execute(select(TaskRow.spec_id, TaskRow.state)
                                      .where(TaskRow.instance_id == projects["brest"])).all())
        assert states.get("review_project") == "completed" and states.get("publish_offer") == "ready", states
    assert page.errors == []
