"""Two campaigns at once: the school year of a day, the campaign in progress and the one in preparation, any day of
the year."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from engine.campaign.campaigns import (
    campaign_in_preparation,
    campaign_in_progress,
    campaigns_in_view,
    current_campaign,
    phase_labels,
    previous_school_year,
    school_year_bounds,
    school_year_of,
)
from engine.models import Campaign

from monitoring_support import campaigns


@pytest.mark.parametrize("day, school_year", [
    (date(2026, 8, 31), "2025-2026"),
    (date(2026, 9, 1), "2026-2027"),   # September: the missions of the year begin
    (date(2026, 12, 6), "2026-2027"),  # December
    (date(2027, 1, 1), "2026-2027"),
    (date(2027, 5, 12), "2026-2027"),  # May: next year's projects are reviewed
    (date(2027, 7, 14), "2026-2027"),  # July
    (date(2027, 8, 31), "2026-2027"),  # August, last day of the school year
])
def test_the_school_year_of_a_day_runs_from_september_to_august(day, school_year):
    assert school_year_of(day) == school_year


def test_a_school_year_covers_missions_from_1_september_to_31_august():
    assert school_year_bounds("2026-2027") == (date(2026, 9, 1), date(2027, 8, 31))
    assert previous_school_year("2027-2028") == "2026-2027"


@pytest.mark.parametrize("day, in_progress, in_preparation", [
    (date(2026, 9, 15), "2026-2027", "2027-2028"),  # September
    (date(2026, 12, 6), "2026-2027", "2027-2028"),  # December
    (date(2027, 5, 12), "2026-2027", "2027-2028"),  # May
    (date(2027, 7, 14), "2026-2027", "2027-2028"),  # July
    (date(2027, 8, 31), "2026-2027", "2027-2028"),  # August
    # 1 September 2027: 2027-2028 is in progress, and no campaign is open for a later year yet.
    (date(2027, 9, 1), "2027-2028", None),
])
def test_the_campaign_in_progress_and_the_one_in_preparation(session, day, in_progress, in_preparation):
    campaigns(session)
    assert campaign_in_progress(session, day).school_year == in_progress
    preparing = campaign_in_preparation(session, day)
    assert (preparing.school_year if preparing else None) == in_preparation
    assert [(view.school_year, view.phase) for view in campaigns_in_view(session, day)] == [
        (in_progress, "in_progress"), *([(in_preparation, "in_preparation")] if in_preparation else [])]
    # New projects start in the campaign in preparation: the open one.
    assert current_campaign(session).school_year == "2027-2028"


def test_a_campaign_in_progress_still_open_leaves_none_in_preparation(session):
    made = campaigns(session)
    made["2027-2028"].closed_at = datetime(2027, 6, 1)
    made["2026-2027"].closed_at = None
    session.commit()
    assert campaign_in_preparation(session, date(2026, 12, 6)) is None
    assert campaign_in_progress(session, date(2026, 12, 6)).is_open
    assert [view.phase for view in campaigns_in_view(session, date(2026, 12, 6))] == ["in_progress"]


def test_no_campaign_for_the_school_year_of_today(session):
    campaigns(session)
    assert campaign_in_progress(session, date(2029, 1, 10)) is None
    assert campaigns_in_view(session, date(2029, 1, 10)) == []


def test_campaigns_in_view_say_their_phase_and_dates_in_french(session):
    campaigns(session)
    in_progress, preparing = campaigns_in_view(session, date(2027, 5, 12))
    assert (in_progress.label, in_progress.missions_from, in_progress.missions_to) == (
        "Campagne 2026-2027 (en cours)", date(2026, 9, 1), date(2027, 8, 31))
    assert preparing.label == "Campagne 2027-2028 (en préparation)"
    every = list(session.scalars(select(Campaign)))
    assert phase_labels(every, date(2027, 5, 12)) == {"2026-2027": "en cours", "2027-2028": "en préparation"}
    assert phase_labels(every, date(2027, 9, 1)) == {"2027-2028": "en cours"}
