"""In Chromium: bpmn-js draws the deployed diagrams and highlights exactly the elements the engine reports.

A live server on loopback (a thread of this process) serves the app; Playwright drives Debian's Chromium.
Markers are read from the drawing itself (the classes bpmn-js put on each element's SVG group).
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from engine.models import ProcessInstance
from engine.runtime.deployment import bundle_for, deploy, read_definition_files
from engine.views.diagrams import heat_views
from engine.views.monitoring import Filters
from engine.views.monitoring_heat import node_heat
from webapp.config import settings_of
from webapp.instance_steering import steering_context

from conftest import ROOT, principal_of, require_node_package
from live_server import served_in_thread
from monitoring_support import NOW, ready, sample, school, seed

MARKERS = ["sc-done", "sc-current", "sc-incident", "sc-path", *[f"sc-heat-{n}" for n in range(1, 6)]]
READ_DRAWINGS = """classes => Array.from(document.querySelectorAll('figure[data-source]')).map(figure => ({
  id: figure.id, rendered: figure.dataset.rendered, missing: figure.dataset.missing,
  markers: Object.fromEntries(classes.map(c => [c, Array.from(figure.querySelectorAll('.djs-element.' + c))
    .map(element => element.dataset.elementId).sort()])),
  overlays: Array.from(figure.querySelectorAll('.djs-overlay .sc-overlay')).map(o => o.textContent)}))"""
ALL_DRAWN = ("() => Array.from(document.querySelectorAll('figure[data-source]'))"
             ".every(figure => figure.dataset.rendered)")


@pytest.fixture
def seeded(session, tmp_path):
    """The seeded projects, dated up to now (the pages compute waits from the real clock)."""
    return seed(session, tmp_path, shift=datetime.now().replace(microsecond=0) - NOW)


@pytest.fixture
def live(app, seeded):
    """The app served on a free loopback port by a thread."""
    require_node_package(ROOT / "node_modules" / "bpmn-js" / "dist", "Le visualiseur bpmn-js")
    with served_in_thread(app) as url:
        yield url


@pytest.fixture
def page(live, chromium):
    """A Chromium page logged in as the process owner; console errors are collected in `page.errors`."""
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.route("https://**/*", lambda route: route.abort())
        page.errors = []
        page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(f"{live}/connexion")
        page.fill("input[name=login]", "pilote")
        page.fill("input[name=password]", "demo-campagne")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live}/")
        page.live = live
        yield page
    finally:
        page.close()


def drawings(page, path: str) -> list[dict]:
    """Open a page, wait until bpmn-js has drawn every diagram, and read markers and overlays from the SVG."""
    page.goto(page.live + path)
    page.wait_for_function(ALL_DRAWN, timeout=30000)
    return page.evaluate(READ_DRAWINGS, MARKERS)


def engine_views(app, session, instance):
    """What the engine reports for an instance's page: its drawings with their markers."""
    with app.test_request_context():
        return steering_context(session, principal_of(session, "pilote"), instance)["diagram_views"]


def assert_same_markers(drawn: list[dict], views) -> None:
    assert [d["rendered"] for d in drawn] == ["true"] * len(views)
    for figure, view in zip(drawn, views, strict=True):
        assert figure["id"] == f"figure-{view.key}"
        assert figure["missing"] == ""
        for marker, ids in view.markers.items():
            assert figure["markers"][marker] == sorted(ids), (view.title, marker)


def test_instance_in_incident_highlights_its_path_and_the_failed_step(app, session, seeded, page):
    instance = seeded.instances["brest-incident"]
    drawn = drawings(page, f"/dossiers/{instance.id}")
    views = engine_views(app, session, instance)
    assert_same_markers(drawn, views)
    markers = drawn[0]["markers"]
    assert markers["sc-incident"] == ["check_school_file_task"] and markers["sc-current"] == []
    assert {"start", "design_project"} <= set(markers["sc-done"])
    assert "flow_design_project_to_check_school_file_task" in markers["sc-path"]
    assert any(text.startswith("incident le ") for text in drawn[0]["overlays"])
    assert page.errors == []


def test_instance_in_its_volunteer_paths_has_one_drawing_per_place(app, session, seeded, page):
    seeded.do("brest-b", "gestionnaire.udogec29", "review_project", sample("review_project", places_granted=2))
    seeded.do("brest-b", "referent.brest", "publish_offer", sample("publish_offer"))
    seeded.do("brest-b", "referent.brest", "select_volunteer", sample("select_volunteer"))
    instance = seeded.instances["brest-b"]
    drawn = drawings(page, f"/dossiers/{instance.id}")
    views = engine_views(app, session, instance)
    assert [v.title for v in views] == ["Projet d'accueil", "Parcours volontaire — place 1",
                                        "Parcours volontaire — place 2"]
    assert_same_markers(drawn, views)
    assert drawn[0]["markers"]["sc-current"] == ["volunteer_paths"]
    currents = sorted(d["markers"]["sc-current"] for d in drawn[1:])
    assert currents == [["confirm_selection"], ["select_volunteer"]]
    assert sorted(r.spec_id for r in ready(session, instance.id)) == ["confirm_selection", "select_volunteer"]


def test_heat_map_colours_the_elements_where_tasks_wait(app, session, seeded, page):
    version = seeded.deployment.id
    drawn = drawings(page, f"/suivi/carte?processus=hosting_project&version={version}")
    filters = Filters("hosting_project", version=version)
    bundle = bundle_for(seeded.deployment)
    views = heat_views(bundle.files, "hosting_project", {p: bundle.process_name(p) for p in bundle.specs},
                       node_heat(session, principal_of(session, "pilote"), filters, datetime.now()))
    assert_same_markers(drawn, views)
    assert drawn[0]["markers"]["sc-heat-5"] == ["design_project"]
    assert drawn[0]["markers"]["sc-heat-1"] == ["review_project"]
    assert drawn[0]["markers"]["sc-incident"] == ["check_school_file_task"]
    assert "5 en attente\nmédiane 9 j · max 11 j\n4 en retard" in drawn[0]["overlays"]
    assert "1 incident" in drawn[0]["overlays"]
    assert page.errors == []


def test_any_bpmn_file_with_its_diagram_is_drawn(app, session, seeded, page):
    files = read_definition_files(ROOT / "processes", ROOT / "forms")
    files["processes/commande.bpmn"] = (Path(__file__).parent / "diagrams" / "commande.bpmn").read_text()
    deploy(session, files, actor="analyste")
    session.commit()
    referent = principal_of(session, "referent.rennes")
    instance = seeded.runtime.start("Process_Commande", referent, establishment=school(session, "rennes"))
    seeded.runtime.complete(ready(session, instance.id)[0].id, referent, {})
    drawn = drawings(page, f"/dossiers/{instance.id}")
    views = engine_views(app, session, session.get(ProcessInstance, instance.id))
    assert_same_markers(drawn, views)
    markers = drawn[0]["markers"]
    assert markers["sc-done"] == ["Activity_0prep", "Event_1start", "StartEvent_1"]
    assert markers["sc-current"] == ["Activity_1check", "Activity_1sub"]
    assert markers["sc-path"] == ["Flow_0a1", "Flow_0a2", "Flow_1b1"]


def test_without_the_viewer_the_page_says_so_and_lists_the_steps(app, browser, seeded, tmp_path):
    app.extensions["settings"] = replace(settings_of(app), node_modules_dir=tmp_path / "absent")
    browser.login("pilote")
    html = browser.client.get(f"/dossiers/{seeded.instances['brest-incident'].id}").get_data(as_text=True)
    assert "Le visualiseur de diagrammes (bpmn-js) n'est pas installé" in html
    assert "bpmn-navigated-viewer" not in html and "diagram.js" not in html
    assert '<tr data-element="check_school_file_task">' in html and "En incident" in html
    heat = browser.client.get("/suivi/carte?processus=hosting_project").get_data(as_text=True)
    assert "n'est pas installé" in heat and '<tr data-element="design_project">' in heat
    assert browser.client.get("/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js").status_code == 404
