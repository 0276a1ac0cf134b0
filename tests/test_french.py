"""French formats: one date format for pages, documents, task instructions and handlers' messages."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from engine.views.instructions import _SANDBOX
from handlers.campaign import submission_rules
from handlers.context import HandlerContext
from handlers.contract import _TEMPLATES as CONTRACT_TEMPLATES
from handlers.formats import date_fr, datetime_fr, number_fr


@pytest.mark.parametrize(("value", "text"), [
    (date(2027, 10, 1), "1er octobre 2027"),
    (date(2026, 11, 28), "28 novembre 2026"),
    (date(2028, 1, 2), "2 janvier 2028"),
    (date(2027, 8, 31), "31 août 2027"),
    ("2027-02-01", "1er février 2027"),
    ("2027-12-11", "11 décembre 2027"),
    (datetime(2027, 3, 1, 23, 59), "1er mars 2027"),
])
def test_dates_in_words_with_the_first_as_an_ordinal(value, text):
    assert date_fr(value) == text


@pytest.mark.parametrize("value", [None, "", "bientôt", "2027-13-01"])
def test_what_is_not_a_date_is_left_as_is(value):
    assert date_fr(value) == (value or "")


def test_moments_and_numbers():
    assert datetime_fr(datetime(2027, 1, 1, 9, 5)) == "1er janvier 2027 à 9 h 05"
    assert datetime_fr(datetime(2026, 11, 28, 14, 30)) == "28 novembre 2026 à 14 h 30"
    assert datetime_fr(None) == ""
    assert number_fr(12345.5) == "12\u202f345,50" and number_fr(1200) == "1\u202f200"


def test_pages_documents_and_instructions_share_one_format(app):
    assert app.jinja_env.filters["date_fr"] is date_fr
    assert _SANDBOX.filters["date_fr"] is date_fr
    assert CONTRACT_TEMPLATES.filters["long_date"] is date_fr


class NoSchool:
    """A directory that knows no establishment."""

    def establishment(self, establishment_id: int) -> None:
        return None


def test_handlers_messages_use_it_too():
    campaign = {"school_year": "2027-2028", "pupil_count_year": "2027-2028", "submission_deadline": "2027-06-01",
                "earliest_start": "2027-09-01", "latest_start": "2028-01-31", "submission_open": False}
    context = HandlerContext(directory=NoSchool(), contracts=None, documents=None, mailer=None,  # type: ignore[arg-type]
                             today=date(2027, 6, 15), campaign=campaign)
    errors = submission_rules(context, {"desired_start_date": "2028-03-01"}, {"establishment_id": 1})
    messages = " ".join(message for _field, message in errors)
    assert "était le 1er juin 2027" in messages
    assert "entre le 1er septembre 2027 et le 31 janvier 2028" in messages
