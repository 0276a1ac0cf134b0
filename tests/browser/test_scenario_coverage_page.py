"""In Chromium: the coverage page plays a scenario and marks its diagrams (reached, taken, never reached)."""
from __future__ import annotations

from playwright.sync_api import expect

from .conftest import assert_accessible, login


def test_the_coverage_page_marks_what_the_scenario_reached_on_the_diagram(page, site):
    login(page, "pilote")
    page.goto("/administration/processus/")
    page.get_by_role("link", name="Couverture des scénarios").click()
    page.get_by_label("Scénarios à jouer").select_option("hosting_project_quota_limit_300.yaml")
    page.get_by_role("button", name="Jouer les scénarios").click()
    expect(page.get_by_role("status").filter(has_text="1 scénario joué, 0 en échec.")).to_be_visible(timeout=60_000)
    figure = page.locator("#figure-hosting_project")
    expect(figure).to_have_attribute("data-rendered", "true")
    # The project was designed and its review is waiting: reached; publishing the offer never was.
    expect(figure.locator('.djs-element.sc-done[data-element-id="design_project"]')).to_have_count(1)
    expect(figure.locator('.djs-element.sc-incident[data-element-id="publish_offer"]')).to_have_count(1)
    expect(figure.locator('.djs-connection.sc-path[data-element-id="flow_school_file_gateway_to_determine_quota"]')
           ).to_have_count(1)
    expect(figure.locator(".sc-overlay-incident").first).to_be_visible()
    expect(page.get_by_role("cell", name="Effectif d'élèves : valeur limite 299")).to_be_visible()
    page.wait_for_function("() => Array.from(document.querySelectorAll('figure[data-source]'))"
                           ".every(figure => figure.dataset.rendered)")
    assert_accessible(page)
    assert page.errors == []
