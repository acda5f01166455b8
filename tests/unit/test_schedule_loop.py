"""``run_on_schedule``: the loop classic ``flow.run()`` runs when the flow has a schedule."""

from __future__ import annotations

import datetime
import threading
import types

import pytest

from prefect_storage.core.schedules import loop
from prefect_storage.schedules import Schedule, clocks

UTC = datetime.timezone.utc


def _flow(schedule):
    return types.SimpleNamespace(name="f", schedule=schedule, logger=None)


def test_runs_each_date_with_the_clock_parameters_then_returns_the_last_state(monkeypatch):
    now = datetime.datetime.now(UTC)
    soon = [now + datetime.timedelta(seconds=s) for s in (0.2, 0.4)]
    schedule = Schedule(clocks=[clocks.DatesClock(soon, parameter_defaults={"x": 2})])
    slept: list[float] = []
    real_sleep = loop.sleep
    monkeypatch.setattr(loop, "sleep", lambda seconds, stop=None: (slept.append(seconds), real_sleep(seconds, stop)))
    calls = []

    def run_once(parameters, scheduled_start_time):
        calls.append((parameters, scheduled_start_time, datetime.datetime.now(UTC)))
        return f"state-{len(calls)}"

    assert loop.run_on_schedule(_flow(schedule), run_once, parameters={"x": 1, "y": 3}) == "state-2"
    assert [c[0] for c in calls] == [{"x": 2, "y": 3}] * 2  # the clock's values win, as classic
    assert [c[1] for c in calls] == soon
    assert all(ran >= due for _, due, ran in calls)  # never before its time
    assert slept, "the loop waited for the scheduled times"


def test_no_upcoming_time_raises_and_no_schedule_runs_once_now():
    past = Schedule(clocks=[clocks.DatesClock([datetime.datetime(2000, 1, 1, tzinfo=UTC)])])
    with pytest.raises(ValueError, match="Flow has no more scheduled runs."):
        loop.run_on_schedule(_flow(past), lambda p, t: None)
    seen = []
    assert loop.run_on_schedule(_flow(None), lambda p, t: seen.append((p, t)) or "done", {"a": 1}) == "done"
    assert seen[0][0] == {"a": 1} and abs((seen[0][1] - datetime.datetime.now(UTC)).total_seconds()) < 5


def test_stop_interrupts_the_wait():
    schedule = Schedule(clocks=[clocks.IntervalClock(datetime.timedelta(hours=1))])
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = datetime.datetime.now(UTC)
    assert loop.run_on_schedule(_flow(schedule), lambda p, t: pytest.fail("ran"), stop=stop) is None
    assert (datetime.datetime.now(UTC) - started).total_seconds() < 5


def test_flow_run_follows_its_schedule_and_returns_when_it_is_exhausted():
    from prefect_storage import Flow, Parameter, context, task

    seen = []

    @task
    def record(x):
        seen.append((x, context.get("scheduled_start_time"), datetime.datetime.now(UTC)))

    now = datetime.datetime.now(UTC)
    dates = [now + datetime.timedelta(seconds=0.3), now + datetime.timedelta(seconds=0.6)]
    schedule = Schedule(clocks=[clocks.DatesClock(dates, parameter_defaults={"x": 7})])
    with Flow("on schedule", schedule=schedule) as flow:
        record(Parameter("x", default=1))
    state = flow.run()
    assert state.is_successful()
    assert [(x, due) for x, due, _ in seen] == [(7, dates[0]), (7, dates[1])]
    assert all(ran >= due for _, due, ran in seen)
    assert flow.run(run_on_schedule=False).is_successful() and seen[-1][0] == 1
    with pytest.raises(ValueError, match="Flow has no more scheduled runs."):
        flow.run()
