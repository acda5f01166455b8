"""Schedule filters: predicates ``(datetime) -> bool`` that keep or drop a clock's event.

Plain filters (``is_weekday``, ``is_weekend``, ``is_month_end``, ``is_month_start``)
are used as they are; the others are factories that return a filter
(``between_times(time(9), time(17))``). Times of day and dates are read on the
event's own wall clock (the clock's time zone). Filters made here remember their
arguments, so a schedule using them can be serialized (:meth:`Schedule.serialize`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

Filter = Callable[[datetime.datetime], bool]


def _tagged(fn: Filter, name: str, **arguments: Any) -> Filter:
    # what serialization needs to rebuild this filter: the factory's name and its arguments
    fn._schedule_ref = (name, arguments)  # type: ignore[attr-defined]
    fn.__qualname__ = fn.__name__ = name
    return fn


def on_datetime(dt: datetime.datetime) -> Filter:
    """Keep only events at exactly ``dt``."""

    def _filter(dt_2: datetime.datetime) -> bool:
        return dt_2 == dt

    return _tagged(_filter, "on_datetime", dt=dt)


def between_datetimes(start: datetime.datetime, end: datetime.datetime) -> Filter:
    """Keep events with ``start <= event <= end``."""

    def _filter(dt: datetime.datetime) -> bool:
        return start <= dt <= end

    return _tagged(_filter, "between_datetimes", start=start, end=end)


def on_date(month: int, day: int) -> Filter:
    """Keep events on ``month``/``day`` of any year."""

    def _filter(dt: datetime.datetime) -> bool:
        return (dt.month, dt.day) == (month, day)

    return _tagged(_filter, "on_date", month=month, day=day)


def between_dates(start_month: int, start_day: int, end_month: int, end_day: int) -> Filter:
    """Keep events whose (month, day) lies in the inclusive range, in any year.

    A start after the end wraps over the new year: ``between_dates(10, 15, 3, 31)``
    keeps October 15 to March 31.
    """

    def _filter(dt: datetime.datetime) -> bool:
        date = (dt.month, dt.day)
        if start_month <= end_month:
            return (start_month, start_day) <= date <= (end_month, end_day)
        return date >= (start_month, start_day) or date <= (end_month, end_day)

    return _tagged(
        _filter, "between_dates", start_month=start_month, start_day=start_day, end_month=end_month, end_day=end_day
    )


def at_time(t: datetime.time) -> Filter:
    """Keep events whose wall-clock time of day is exactly ``t`` (seconds included)."""

    def _filter(dt: datetime.datetime) -> bool:
        return dt.time() == t

    return _tagged(_filter, "at_time", t=t)


def between_times(start: datetime.time, end: datetime.time) -> Filter:
    """Keep events whose time of day lies in ``[start, end]``; a start after the end wraps
    over midnight (``between_times(time(22), time(2))``)."""

    def _filter(dt: datetime.datetime) -> bool:
        now = dt.time()
        if start <= end:
            return start <= now <= end
        return now >= start or now <= end

    return _tagged(_filter, "between_times", start=start, end=end)


def is_weekday(dt: datetime.datetime) -> bool:
    """Monday to Friday."""
    return dt.weekday() < 5


def is_weekend(dt: datetime.datetime) -> bool:
    """Saturday and Sunday."""
    return dt.weekday() > 4


def is_month_end(dt: datetime.datetime) -> bool:
    """The last day of its month."""
    return (dt.date() + datetime.timedelta(days=1)).month != dt.month


def is_month_start(dt: datetime.datetime) -> bool:
    """The first day of its month."""
    return dt.day == 1


def is_day_of_week(day_of_week: int) -> Filter:
    """Keep events on weekday ``day_of_week`` (``datetime.weekday()`` numbering: Monday is 0)."""

    def _filter(dt: datetime.datetime) -> bool:
        return dt.weekday() == day_of_week

    return _tagged(_filter, "is_day_of_week", day_of_week=day_of_week)


#: filters by name, for serialization
FILTERS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        on_datetime,
        between_datetimes,
        on_date,
        between_dates,
        at_time,
        between_times,
        is_weekday,
        is_weekend,
        is_month_end,
        is_month_start,
        is_day_of_week,
    )
}
PLAIN_FILTERS = frozenset({"is_weekday", "is_weekend", "is_month_end", "is_month_start"})
