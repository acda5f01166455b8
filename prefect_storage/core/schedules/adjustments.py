"""Schedule adjustments: functions ``(datetime) -> datetime`` applied, in order, to each
event that passed a schedule's filters."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from prefect_storage.core.schedules import _time
from prefect_storage.core.schedules.filters import is_weekday

Adjustment = Callable[[datetime.datetime], datetime.datetime]


def add(interval: datetime.timedelta) -> Adjustment:
    """Move each event by ``interval`` of elapsed time (``add(timedelta(minutes=5))``)."""

    def _adjust(dt: datetime.datetime) -> datetime.datetime:
        if dt.tzinfo is None:
            return dt + interval
        if _time.is_pendulum(dt):
            return dt + interval  # pendulum adds elapsed time itself
        return _time.add_absolute(_time.aware(dt), interval)

    _adjust._schedule_ref = ("add", {"interval": interval})  # type: ignore[attr-defined]
    _adjust.__qualname__ = _adjust.__name__ = "add"
    return _adjust


def next_weekday(dt: datetime.datetime) -> datetime.datetime:
    """The same wall-clock time on the next weekday; a weekday is returned as it is."""
    if is_weekday(dt):
        return dt
    moved = _time.aware(dt)
    while not is_weekday(moved):
        moved = _time.add_days(moved, 1)
    return _time.out(moved) if dt.tzinfo is not None else moved.replace(tzinfo=None)


#: adjustments by name, for serialization
ADJUSTMENTS: dict[str, Callable[..., Any]] = {"add": add, "next_weekday": next_weekday}
PLAIN_ADJUSTMENTS = frozenset({"next_weekday"})
