"""Dates of the demo story, counted from today: its campaigns, and missions that show each moment of a follow-up.

The demo is seeded as a real day of the year. A campaign's missions start
between 1 September and 31 January (the latest start the network allows) and
last 6 to 12 months. Each moment the story must show today — a monthly
follow-up just opened, one overdue and reminded, a mid-mission review, an
end-of-mission report, a certificate, a mission ended early, a mission going on
— is a *role*; its mission's dates are chosen among those that show it today,
preferring the campaign in progress, a start in the autumn and 8 months.

Some moments cannot be seen in the campaign in progress on some days: in
December, no mission started since September can end. The mission then belongs
to the campaign before, whose missions started in January run until the
winter: the school year ends on 31 August, missions started late do not.
Nothing here touches the database.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from engine.campaign.campaigns import school_year_of
from handlers.follow_up import add_months, follow_up_calendar

# When past campaigns opened, took their last projects and closed, and when their missions could start.
OPENING, DEADLINE, CLOSING = (2, 1), (5, 31), (6, 3)
EARLIEST_START, LATEST_START = (9, 1), (1, 31)
# How long before today the campaign in preparation opened, and how long its submissions stay open at least.
PREPARATION_OPENED_DAYS_AGO, SUBMISSION_DAYS_AHEAD = 75, 30
# Monthly follow-ups open on the start's day of the month: starts after the 28th would drift in short months.
LAST_START_DAY = 28
MORNING = time(9, 0)

# The moments of a follow-up the story shows today, one mission each.
FOLLOW_UP_DUE = "follow_up_due"
FOLLOW_UP_OVERDUE = "follow_up_overdue"
MID_MISSION_REVIEW = "mid_mission_review"
MISSION_ENDING = "mission_ending"
CERTIFICATE = "certificate"
ENDED_EARLY = "ended_early"
GOING_ON = "going_on"
JUST_STARTED = "just_started"
ROLES = (FOLLOW_UP_DUE, FOLLOW_UP_OVERDUE, MID_MISSION_REVIEW, MISSION_ENDING, CERTIFICATE, ENDED_EARLY, GOING_ON,
         JUST_STARTED)

# A mission of the campaign in progress may start that many days after today: its contract is already signed.
STARTING_WITHIN = 14
# Days the school team takes for each follow-up task when it does it (the story waits that long after it opens).
DAYS_TO_RECORD = {"record_follow_up": 3, "mid_mission_review": 5, "end_of_mission_report": 10}


@dataclass(frozen=True)
class CampaignDates:
    """A campaign's dates as the process owner opened it, and when it was closed (None: still open)."""

    school_year: str
    opened_at: datetime
    submission_deadline: date
    earliest_start: date
    latest_start: date
    closed_at: datetime | None

    def form(self) -> dict[str, str]:
        """The campaign form as the process owner fills it (`engine.campaign.campaigns.open_campaign`)."""
        return {"school_year": self.school_year, "pupil_count_year": "",
                "submission_deadline": self.submission_deadline.isoformat(),
                "earliest_start": self.earliest_start.isoformat(), "latest_start": self.latest_start.isoformat()}

    def holds(self, start: date) -> bool:
        """Whether a mission starting that day belongs to this campaign."""
        return self.earliest_start <= start <= self.latest_start


def next_school_year(school_year: str) -> str:
    """The school year after: "2027-2028" for "2026-2027"."""
    first = int(school_year[:4]) + 1
    return f"{first}-{first + 1}"


def past_dates(school_year: str) -> CampaignDates:
    """A campaign of the story's past: opened in February, deadline at the end of May, closed in June."""
    first = int(school_year[:4])
    return CampaignDates(school_year, datetime.combine(date(first, *OPENING), MORNING), date(first, *DEADLINE),
                         date(first, *EARLIEST_START), date(first + 1, *LATEST_START),
                         datetime.combine(date(first, *CLOSING), MORNING))


def preparation_dates(today: date) -> CampaignDates:
    """The campaign of next school year: open for some weeks already, its submission deadline still ahead."""
    school_year = next_school_year(school_year_of(today))
    first = int(school_year[:4])
    deadline = max(date(first, *DEADLINE), today + timedelta(days=SUBMISSION_DAYS_AHEAD))
    opened = datetime.combine(today - timedelta(days=PREPARATION_OPENED_DAYS_AGO), MORNING)
    return CampaignDates(school_year, opened, deadline, max(date(first, *EARLIEST_START), deadline + timedelta(days=1)),
                         date(first + 1, *LATEST_START), None)


# Fixed public holidays: no training session is held then, nor during the Christmas holidays.
NO_SESSION_DAYS = {(5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11)}
CHRISTMAS_HOLIDAYS = ((12, 20), (1, 3))


def session_day(today: date, days_from_today: int) -> date:
    """The day of a training session about that many days from today: a working day, away from today."""
    day, step = today + timedelta(days=days_from_today), timedelta(days=1 if days_from_today >= 0 else -1)
    while day.weekday() >= 5 or (day.month, day.day) in NO_SESSION_DAYS or _christmas(day):
        day += step
    return day


def _christmas(day: date) -> bool:
    (first_month, first_day), (last_month, last_day) = CHRISTMAS_HOLIDAYS
    return (day.month, day.day) >= (first_month, first_day) or (day.month, day.day) <= (last_month, last_day)


@dataclass(frozen=True)
class FollowUpDates:
    """When a mission's follow-up tasks open, as `follow_up.bpmn` plans them (`handlers.follow_up`)."""

    openings: tuple[date, ...]
    mid_mission: date
    report: date


@lru_cache(maxsize=8192)
def follow_up_dates(start: date, end: date) -> FollowUpDates:
    """The days the monthly follow-ups, the mid-mission review and the end-of-mission report of a mission open."""
    plan = follow_up_calendar(start, end)
    return FollowUpDates(tuple(add_months(start, month) for month in range(1, plan["meetings"] + 1)),
                         date.fromisoformat(plan["mid_mission_at"][:10]), date.fromisoformat(plan["report_at"][:10]))


@dataclass(frozen=True)
class Mission:
    """The dates of one volunteer's mission in the story, and what the school team leaves undone by today."""

    role: str
    school_year: str
    start: date
    end: date
    # The mission ended early on that day (its follow-up stops).
    early_end: date | None = None
    # Monthly follow-ups opened from that day on are not recorded.
    follow_ups_undone_from: date | None = None
    # Other follow-up tasks left undone: the mid-mission review, the end-of-mission report.
    undone: frozenset[str] = frozenset()

    @property
    def follow_up(self) -> FollowUpDates:
        """When its follow-up tasks open."""
        return follow_up_dates(self.start, self.end)

    def leaves_undone(self, spec_id: str, opened_on: date) -> bool:
        """Whether the school team has not done that follow-up task (opened that day) by today."""
        if spec_id == "record_follow_up":
            return self.follow_ups_undone_from is not None and opened_on >= self.follow_ups_undone_from
        return spec_id in self.undone


@dataclass(frozen=True)
class _Candidate:
    start: date
    end: date
    months: int
    school_year: str
    in_progress: bool

    @property
    def dates(self) -> FollowUpDates:
        return follow_up_dates(self.start, self.end)

    def opening_between(self, first: date, last: date) -> date | None:
        return next((day for day in self.dates.openings if first <= day <= last), None)


# A role's rule: (candidate, today) → its cost when the candidate shows the role today, else None.
Rule = Callable[[_Candidate, date], float | None]


def _days(a: date, b: date) -> int:
    return abs((a - b).days)


def _candidates(today: date) -> list[_Candidate]:
    """Missions of the previous campaign or the one in progress, 6 to 12 months long, started by yesterday (or
    starting within two weeks: recruited, contract signed)."""
    in_progress = school_year_of(today)
    found = []
    for school_year in (in_progress, _previous(in_progress)):
        dates = past_dates(school_year)
        day, last = dates.earliest_start, min(dates.latest_start, today + timedelta(days=STARTING_WITHIN))
        while day <= last:
            if day.day <= LAST_START_DAY:
                found += [_Candidate(day, add_months(day, months) - timedelta(days=1), months, school_year,
                                     school_year == in_progress) for months in range(6, 13)]
            day += timedelta(days=1)
    return found


def _previous(school_year: str) -> str:
    first = int(school_year[:4]) - 1
    return f"{first}-{first + 1}"


def _preference(candidate: _Candidate) -> float:
    """What makes a mission typical: the campaign in progress, a start in the autumn, 8 months."""
    first = int(candidate.school_year[:4])
    autumn = max(0, _days(candidate.start, date(first, 10, 15)) - 30)
    return (0 if candidate.in_progress else 1000) + autumn + 3 * abs(candidate.months - 8)


def _follow_up_due(c: _Candidate, today: date) -> float | None:
    """A monthly follow-up opened in the last week, not reminded yet; the mission goes on for a while."""
    opened = c.opening_between(today - timedelta(days=7), today - timedelta(days=1))
    if opened is None or c.end < today + timedelta(days=30) or c.dates.report <= today:
        return None
    if c.start > today - timedelta(days=55) or today - timedelta(days=7) <= c.dates.mid_mission <= today:
        return None
    return 10 * _days(opened, today - timedelta(days=3))


def _follow_up_overdue(c: _Candidate, today: date) -> float | None:
    """A monthly follow-up opened two to four weeks ago: its reminder went ten days after."""
    opened = c.opening_between(today - timedelta(days=25), today - timedelta(days=11))
    if opened is None or c.end < today + timedelta(days=20) or c.dates.report <= today:
        return None
    if today - timedelta(days=7) <= c.dates.mid_mission <= today:
        return None
    return 10 * _days(opened, today - timedelta(days=14))


def _mid_mission_due(c: _Candidate, today: date) -> float | None:
    """The mid-mission review opened in the last days."""
    if not today - timedelta(days=10) <= c.dates.mid_mission <= today - timedelta(days=1):
        return None
    return 10 * _days(c.dates.mid_mission, today - timedelta(days=3)) if c.dates.report > today + timedelta(days=14) \
        else None


def _mid_mission_late(c: _Candidate, today: date) -> float | None:
    """In the autumn, no mission of the campaign in progress is halfway yet: the review of a longer one waits."""
    if c.dates.mid_mission >= today or c.dates.report <= today + timedelta(days=14):
        return None
    return 10 * (today - c.dates.mid_mission).days


def _ending(c: _Candidate, today: date) -> float | None:
    """The end-of-mission report is asked; the contract ends within two weeks."""
    if not today + timedelta(days=1) <= c.end <= today + timedelta(days=13) or c.dates.report >= today:
        return None
    return 10 * _days(c.end, today + timedelta(days=7))


def _just_ended(c: _Candidate, today: date) -> float | None:
    """In February no mission ends (started by 31 January, 6 to 12 months): one ended days ago, its report asked."""
    if not today - timedelta(days=25) <= c.end <= today or c.dates.report >= today:
        return None
    return 10 * (today - c.end).days


def _certificate(c: _Candidate, today: date) -> float | None:
    """The report was written, the certificate produced; the mission ended in the last weeks."""
    written = c.dates.report + timedelta(days=DAYS_TO_RECORD["end_of_mission_report"])
    if written >= today or c.end >= today or c.end < today - timedelta(days=60):
        return None
    return 5 * _days(c.end, today - timedelta(days=14))


def _ended_early(c: _Candidate, today: date) -> float | None:
    """A mission well under way, which would have gone on, ended ten days ago."""
    if c.start > today - timedelta(days=50) or c.end < today + timedelta(days=45):
        return None
    return 0.0


def _just_started(c: _Candidate, today: date) -> float | None:
    """The latest arrival of the campaign in progress: started in the last weeks, or starting soon."""
    if not c.in_progress or c.start < today - timedelta(days=45) or _busy(c, today):
        return None
    return 3 * _days(c.start, today - timedelta(days=10))


def _latest_start(c: _Candidate, today: date) -> float | None:
    """From March, no mission of the campaign in progress starts any more: the last one to have started."""
    if not c.in_progress or c.start >= today or c.end < today + timedelta(days=30) or _busy(c, today):
        return None
    return 3 * (today - c.start).days


def _busy(c: _Candidate, today: date) -> bool:
    """Whether a follow-up task of the mission opened in the last days (and is not recorded yet)."""
    return (c.opening_between(today - timedelta(days=4), today) is not None or c.dates.report <= today
            or today - timedelta(days=7) <= c.dates.mid_mission <= today)


def _going_on(c: _Candidate, today: date) -> float | None:
    """A mission under way for two months at least, with nothing left to do today."""
    if c.start > today - timedelta(days=60) or c.end < today + timedelta(days=60) or _busy(c, today):
        return None
    return 0.0


# Each role's rules, the first that some candidate meets wins.
RULES: dict[str, tuple[Rule, ...]] = {
    FOLLOW_UP_DUE: (_follow_up_due,),
    FOLLOW_UP_OVERDUE: (_follow_up_overdue,),
    MID_MISSION_REVIEW: (_mid_mission_due, _mid_mission_late),
    MISSION_ENDING: (_ending, _just_ended),
    CERTIFICATE: (_certificate,),
    ENDED_EARLY: (_ended_early,),
    GOING_ON: (_going_on,),
    JUST_STARTED: (_just_started, _latest_start),
}


def mission_for(role: str, today: date, candidates: list[_Candidate] | None = None) -> Mission:
    """The mission that shows a role today: the typical one among those its first satisfiable rule accepts."""
    candidates = candidates if candidates is not None else _candidates(today)
    for rule in RULES[role]:
        costs = [(cost + _preference(c), c.start, c.months, c) for c in candidates
                 if (cost := rule(c, today)) is not None]
        if costs:
            best = min(costs, key=lambda item: item[:3])[3]
            return _mission(role, best, today)
    raise ValueError(f"aucune mission ne montre le rôle « {role} » le {today.isoformat()}")


def _mission(role: str, c: _Candidate, today: date) -> Mission:
    undone: frozenset[str] = frozenset()
    undone_from = early_end = None
    if role == FOLLOW_UP_DUE:
        undone_from = today - timedelta(days=7)
    elif role == FOLLOW_UP_OVERDUE:
        undone_from = today - timedelta(days=25)
    elif role == MID_MISSION_REVIEW:
        undone = frozenset({"mid_mission_review"})
    elif role == MISSION_ENDING:
        undone = frozenset({"end_of_mission_report"})
    elif role == ENDED_EARLY:
        early_end = today - timedelta(days=10)
    return Mission(role, c.school_year, c.start, c.end, early_end, undone_from, undone)


def missions(today: date) -> dict[str, Mission]:
    """The mission of every role, today."""
    candidates = _candidates(today)
    return {role: mission_for(role, today, candidates) for role in ROLES}
