"""French that reads well: structure names instead of codes, real plurals, a favicon."""
from __future__ import annotations

from sqlalchemy import event

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
