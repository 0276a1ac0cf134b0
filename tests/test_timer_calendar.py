"""Monthly cycles fall on the same day of each month, February and 30-day months included, and due dates count
calendar months: the engine's timer handling corrects SpiffWorkflow's fixed-seconds period."""
from __future__ import annotations

from datetime import datetime

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.models import Timer
from engine.runtime import spiff_internals
from engine.runtime.deployment import deploy, read_definition_files
from engine.runtime.due_dates import add_months, due_date, shifted
from engine.runtime.timers import align_calendar_cycles, engine_clock, waiting_timers

from conftest import ROOT
from follow_up_support import run_worker, to_follow_up
from monitoring_support import with_due_dates
from test_processes import ready

CYCLE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="monthly" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="mission" />
    <bpmn:userTask id="mission" />
    <bpmn:sequenceFlow id="f2" sourceRef="mission" targetRef="end" />
    <bpmn:endEvent id="end" />
    <bpmn:boundaryEvent id="each_month" cancelActivity="false" attachedToRef="mission">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeCycle>"CYCLE"</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="each_month" targetRef="meeting" />
    <bpmn:userTask id="meeting" />
    <bpmn:sequenceFlow id="f4" sourceRef="meeting" targetRef="met" />
    <bpmn:endEvent id="met" />
  </bpmn:process>
</bpmn:definitions>
"""


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def monthly(cycle: str, clock: Clock, aligned: bool = True) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(CYCLE.replace("CYCLE", cycle).encode())
    workflow = BpmnWorkflow(parser.get_spec("monthly"))
    with engine_clock(clock):
        workflow.do_engine_steps()
    if aligned:
        align_calendar_cycles(workflow)
    return workflow


def next_due(workflow: BpmnWorkflow) -> datetime | None:
    found = [due for _element, kind, due in waiting_timers(workflow).values() if kind == "cycle"]
    return found[0] if found else None


def occurrences(workflow: BpmnWorkflow, clock: Clock, aligned: bool = True) -> list[datetime]:
    """Each next occurrence, the clock moved just past it and the timer fired, as a worker would."""
    seen = []
    while (due := next_due(workflow)) is not None:
        seen.append(due)
        clock.now = due.replace(minute=1)
        with engine_clock(clock):
            workflow.refresh_timers()
            workflow.do_engine_steps()
        if aligned:
            align_calendar_cycles(workflow)
    return seen


def test_a_monthly_cycle_keeps_the_31st_through_february_and_30_day_months():
    clock = Clock(datetime(2028, 1, 1, 8, 0))
    workflow = monthly("R6/2028-01-31T09:00:00/P1M", clock)
    assert occurrences(workflow, clock) == [datetime(2028, month, day, 9, 0) for month, day in
                                            ((1, 31), (2, 29), (3, 31), (4, 30), (5, 31), (6, 30))]
    assert len([t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.name == "meeting"]) == 6


def test_without_the_calendar_spiffworkflow_drifts_by_the_first_month_length():
    clock = Clock(datetime(2027, 9, 1, 8, 0))
    drifted = occurrences(monthly("R3/2027-10-01T09:00:00/P1M", clock, aligned=False), clock, aligned=False)
    assert drifted[2] == datetime(2027, 12, 2, 9, 0), "1 October + 31 days + 31 days"
    clock = Clock(datetime(2027, 9, 1, 8, 0))
    assert occurrences(monthly("R3/2027-10-01T09:00:00/P1M", clock), clock)[2] == datetime(2027, 12, 1, 9, 0)


def test_a_cycle_armed_in_the_past_catches_up_on_the_calendar():
    clock = Clock(datetime(2028, 3, 15, 10, 0))
    workflow = monthly("R4/2028-01-31T09:00:00/P1M", clock)
    with engine_clock(clock):
        workflow.refresh_timers()
        workflow.do_engine_steps()
    align_calendar_cycles(workflow)
    assert next_due(workflow) == datetime(2028, 3, 31, 9, 0), "31 January and 29 February have fired"
    assert len([t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.name == "meeting"]) == 2


def test_an_occurrence_moved_by_hand_stays_and_the_next_one_returns_to_the_calendar():
    clock = Clock(datetime(2028, 1, 1, 8, 0))
    workflow = monthly("R3/2028-01-31T09:00:00/P1M", clock)
    (task,) = [t for t in workflow.get_tasks(state=TaskState.WAITING) if t.task_spec.name == "each_month"]
    spiff_internals.move_timer(task, datetime(2028, 2, 3, 14, 0).astimezone())
    align_calendar_cycles(workflow)
    assert next_due(workflow) == datetime(2028, 2, 3, 14, 0), "the calendar leaves a moved occurrence alone"
    assert occurrences(workflow, clock) == [datetime(2028, 2, 3, 14, 0), datetime(2028, 2, 29, 9, 0),
                                            datetime(2028, 3, 31, 9, 0)]


def test_a_cycle_in_days_keeps_its_period():
    clock = Clock(datetime(2028, 1, 1, 8, 0))
    workflow = monthly("R3/2028-01-31T09:00:00/P10D", clock)
    assert occurrences(workflow, clock) == [datetime(2028, 1, 31, 9, 0), datetime(2028, 2, 10, 9, 0),
                                            datetime(2028, 2, 20, 9, 0)]


@pytest.mark.parametrize(("start", "months", "expected"), [
    (datetime(2028, 1, 31, 9), 1, datetime(2028, 2, 29, 9)), (datetime(2027, 1, 31, 9), 1, datetime(2027, 2, 28, 9)),
    (datetime(2027, 10, 31), 4, datetime(2028, 2, 29)), (datetime(2027, 12, 15), 1, datetime(2028, 1, 15)),
    (datetime(2028, 3, 31), -1, datetime(2028, 2, 29)),
])
def test_months_are_added_on_the_calendar(start, months, expected):
    assert add_months(start, months) == expected
    assert shifted(start, {"months": 1}, months) == expected


def test_the_real_follow_up_falls_on_the_first_of_each_month(runtime, session, sessions, tmp_path):
    """The sample contract runs from 1 October 2027 to 31 May 2028: December, January and March would drift."""
    followed = to_follow_up(runtime, session)
    seen = []
    for _ in range(10):
        due = session.scalar(select(Timer.due_at).where(Timer.instance_id == followed.id,
                                                        Timer.spec_id == "monthly_follow_up"))
        if due is None:
            break
        seen.append(due)
        run_worker(sessions, tmp_path, due.replace(minute=1), session)
    assert seen == [datetime(year, month, 1, 9, 0) for year, month in
                    ((2027, 11), (2027, 12), (2028, 1), (2028, 2), (2028, 3), (2028, 4), (2028, 5))]
    assert len(ready(session, followed.id, "record_follow_up")) == 7


class _Spec:
    def __init__(self, **properties):
        self.extensions = {"properties": properties}


def test_due_dates_count_from_readiness_or_from_a_date_of_the_task_data():
    ready_at = datetime(2027, 9, 20, 14, 30)
    assert due_date(_Spec(dueIn="P10D"), ready_at) == datetime(2027, 9, 30, 14, 30)
    assert due_date(_Spec(dueIn="P1M"), datetime(2028, 1, 31, 9)) == datetime(2028, 2, 29, 9)
    session_data = {"session": {"session_date": "2027-11-18"}}
    assert due_date(_Spec(dueFrom="session.session_date", dueIn="P1W"), ready_at, session_data) == datetime(
        2027, 11, 25)
    contract = {"volunteer": {"start_date": "2027-10-01"}}
    assert due_date(_Spec(dueFrom="volunteer.start_date"), ready_at, contract) == datetime(2027, 10, 1)
    assert due_date(_Spec(dueFrom="volunteer.start_date"), ready_at, {}) is None, "no date, no due date"
    assert due_date(_Spec(dueFrom="volunteer.start_date", dueIn="bientôt"), ready_at, contract) is None
    assert due_date(_Spec(), ready_at) is None


def test_a_task_without_a_due_date_of_its_own_is_due_when_its_reminder_fires(runtime, session, sessions, tmp_path):
    """The monthly follow-up, its own `dueIn` taken out: its row is due when « Suivi en retard » fires."""
    files = with_due_dates(read_definition_files(ROOT / "processes", ROOT / "forms"), {"record_follow_up": None},
                           "processes/follow_up.bpmn")
    assert 'name="dueIn"' not in files["processes/follow_up.bpmn"]
    deploy(session, files, actor="tests")
    session.commit()
    followed = to_follow_up(runtime, session)
    first = session.scalar(select(Timer.due_at).where(Timer.instance_id == followed.id,
                                                      Timer.spec_id == "monthly_follow_up"))
    run_worker(sessions, tmp_path, first.replace(minute=1), session)
    [row] = ready(session, followed.id, "record_follow_up")
    reminder = session.scalar(select(Timer.due_at).where(Timer.instance_id == followed.id,
                                                         Timer.spec_id == "follow_up_overdue"))
    assert reminder is not None and reminder > first
    assert row.due_at == reminder
