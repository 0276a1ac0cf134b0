"""French that reads well: structure names instead of codes, real plurals, a favicon."""
from __future__ import annotations

import html
import re
from urllib.parse import unquote

import pytest
from sqlalchemy import event

from engine.directory.import_report import outcome_count, outcome_label
from handlers.formats import plural
from webapp.formatting import structure_name


def test_structure_codes_read_as_names_with_one_query_per_request(app):
    engine = app.extensions["db_engine"]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with app.test_request_context("/"):
            assert structure_name("UDOGEC-35") == "Udogec d'Ille-et-Vilaine"
            assert structure_name("UDOGEC-29") == "Udogec du Finistère"
            assert structure_name("UDOGEC-99") == "UDOGEC-99"
            assert structure_name(None) == ""
            rendered = app.jinja_env.from_string("{{ code|structure_name }}").render(code="UDOGEC-35")
            assert rendered == "Udogec d&#39;Ille-et-Vilaine"
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if "FROM structure" in s]) == 1


@pytest.mark.parametrize(("count", "singular", "plural_form", "text"), [
    (0, "rejeté", None, "0 rejeté"),
    (1, "fichier", None, "1 fichier"),
    (3, "créé", None, "3 créés"),
    (2, "cas", None, "2 cas"),
    (4, "mis à jour", "mis à jour", "4 mis à jour"),
    (2, "place libre", "places libres", "2 places libres"),
    (1234, "dossier", None, "1\u202f234 dossiers"),
])
def test_counts_take_the_singular_up_to_one_and_the_plural_beyond(count, singular, plural_form, text):
    assert plural(count, singular, plural_form) == text


@pytest.mark.parametrize(("kind", "outcome", "count", "text"), [
    ("establishment", "created", 3, "3 créés"),
    ("structure", "created", 3, "3 créées"),
    ("person", "updated", 1, "1 mise à jour"),
    ("person", "updated", 2, "2 mises à jour"),
    ("role", "rejected", 0, "0 rejeté"),
])
def test_import_counts_agree_with_the_kind_of_record(kind, outcome, count, text):
    assert outcome_count(kind, outcome, count) == text


def test_one_record_s_outcome_agrees_with_its_kind():
    assert (outcome_label("structure", "created"), outcome_label("role", "created")) == ("créée", "créé")
    assert outcome_label("person", "updated") == "mise à jour"


def test_templates_write_plurals_with_the_filter(app):
    render = app.jinja_env.from_string("{{ n | plural('place libre', 'places libres') }}, {{ m | plural('erreur') }}")
    assert render.render(n=1, m=2) == "1 place libre, 2 erreurs"


def test_the_favicon_is_served_and_linked(client):
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
        assert icon.data[:4] == b"\x00\x00\x01\x00"
    login = html.unescape(client.get("/connexion").get_data(as_text=True))
    # The SVG icon is inlined: pages do not ask for it each time.
    linked = re.search(r'<link rel="icon" href="data:image/svg\+xml,([^"]+)" type="image/svg\+xml">', login)
    assert linked and ">SC</text>" in unquote(linked.group(1))


def test_the_home_page_greets_once_after_logging_in(browser):
    landing = browser.client.get(browser.login("referent.rennes").headers["Location"]).get_data(as_text=True)
    assert landing.count("Bonjour Anne") == 1
