"""``flow.run()`` on a schedule: wait for each scheduled time, run, repeat until the
schedule has no more times (a never-ending schedule never returns, as in classic).

``Flow.run`` calls :func:`run_on_schedule` lazily with a ``run_once`` callback that
runs the flow once (with ``scheduled_start_time`` in the run's context).
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from prefect_storage.core.schedules import _time
from prefect_storage.log import get_logger

logger = get_logger("flow_runner")

RunOnce = Callable[[dict[str, Any], datetime.datetime], Any]


def sleep(seconds: float, stop: threading.Event | None = None) -> None:
    """Wait ``seconds`` (returns early once ``stop`` is set). Tests patch this."""
    if seconds <= 0:
        return
    if stop is not None:
        stop.wait(seconds)
    else:
        time.sleep(seconds)


def wait_until(when: datetime.datetime, stop: threading.Event | None = None) -> None:
    """Sleep until ``when`` (aware; naive means UTC), in slices so a changed clock or a
    ``stop`` is noticed."""
    target = _time.to_utc(when)
    while stop is None or not stop.is_set():
        remaining = (target - _time.now()).total_seconds()
        if remaining <= 0:
            return
        sleep(min(remaining, 60.0), stop)


def run_on_schedule(
    flow: Any,
    run_once: RunOnce,
    parameters: Mapping[str, Any] | None = None,
    stop: threading.Event | None = None,
) -> Any:
    """Run ``flow`` at each time of ``flow.schedule``; return the last run's state.

    For each next event (after now): log ``Waiting for next scheduled run at …``,
    sleep until its time, then call ``run_once(params, scheduled_start_time)`` where
    ``params`` is ``parameters`` updated with the event's ``parameter_defaults`` (the
    clock's values win, as in classic). A run that outlasts the interval skips the
    times that passed meanwhile (the next time is always taken after *now*).

    Args:
        flow: the flow; its ``schedule`` drives the loop (no schedule: one run now).
        run_once: runs the flow once and returns its final state.
        parameters: the parameters given to ``flow.run``.
        stop: when set (from another thread), the loop returns after the current run.

    Raises:
        ValueError: the schedule has no upcoming time at all ("Flow has no more scheduled runs.").
    """
    base = dict(parameters or {})
    schedule = getattr(flow, "schedule", None)
    log = getattr(flow, "logger", None) or logger
    if schedule is None:
        return run_once(base, _time.out(_time.now()))
    events = schedule.next(1, return_events=True)
    if not events:
        raise ValueError("Flow has no more scheduled runs.")
    state = None
    while events and not (stop is not None and stop.is_set()):
        event = events[0]
        if _time.to_utc(event.start_time) > _time.now():
            log.info("Waiting for next scheduled run at %s", event.start_time)
            wait_until(event.start_time, stop)
            if stop is not None and stop.is_set():
                break
        state = run_once({**base, **event.parameter_defaults}, event.start_time)
        events = schedule.next(1, return_events=True)
    return state
