"""``Schedule``: clocks, then filters, then adjustments (and the classic shortcut
functions ``IntervalSchedule``, ``CronSchedule`` and ``RRuleSchedule``)."""

from __future__ import annotations

import datetime
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prefect_storage.core.schedules import clocks as _clocks

#: ``Schedule.next`` gives up after examining this many clock events (filters may reject most)
MAX_CANDIDATES = 10_000


class Schedule:
    """When a flow runs: the merged events of ``clocks`` that pass the filters, moved by
    the adjustments.

    An event is kept when every one of ``filters`` is true, at least one of
    ``or_filters`` is true (when there are any) and none of ``not_filters`` is true.
    The kept event's time then goes through ``adjustments`` in order. Events of two
    clocks at the same time are both kept unless their parameter defaults and labels
    are equal too.

    Example::

        from datetime import time, timedelta
        from prefect_storage.schedules import Schedule, filters
        from prefect_storage.schedules.clocks import IntervalClock

        schedule = Schedule(
            clocks=[IntervalClock(timedelta(hours=1))],
            filters=[filters.is_weekday],
            or_filters=[filters.at_time(time(9)), filters.at_time(time(17))],
        )
        schedule.next(4)   # the next four 09:00 and 17:00 UTC on weekdays

    Raises:
        TypeError: ``clocks`` is not a list (iterable) of clocks.
    """

    def __init__(
        self,
        clocks: list[_clocks.Clock],
        filters: list[Callable[[datetime.datetime], bool]] | None = None,
        or_filters: list[Callable[[datetime.datetime], bool]] | None = None,
        not_filters: list[Callable[[datetime.datetime], bool]] | None = None,
        adjustments: list[Callable[[datetime.datetime], datetime.datetime]] | None = None,
    ) -> None:
        if not isinstance(clocks, Iterable):
            raise TypeError("clocks should be a list of clocks.")
        self.clocks = clocks
        self.filters = filters or []
        self.or_filters = or_filters or []
        self.not_filters = not_filters or []
        self.adjustments = adjustments or []

    @property
    def start_date(self) -> datetime.datetime | None:
        """The earliest start date of the clocks, if any has one."""
        return min((c.start_date for c in self.clocks if c.start_date), default=None)

    @property
    def end_date(self) -> datetime.datetime | None:
        """The latest end date of the clocks, if any has one."""
        return max((c.end_date for c in self.clocks if c.end_date), default=None)

    def next(self, n: int, after: datetime.datetime | None = None, return_events: bool = False) -> list[Any]:
        """The next ``n`` run times strictly after ``after`` (default: now).

        Stops early after examining 10,000 clock events, so a schedule whose filters
        reject almost everything returns fewer than ``n``.

        Args:
            n: how many times to return.
            after: the returned times are later than this.
            return_events: return :class:`~prefect_storage.schedules.clocks.ClockEvent`
                objects (with parameter defaults and labels) instead of datetimes.
        """
        found: list[Any] = []
        if n <= 0:
            return found
        for examined, event in enumerate(self._get_clock_events(after=after), start=1):
            if self._check_filters(event.start_time):
                event.start_time = self._apply_adjustments(event.start_time)
                found.append(event if return_events else event.start_time)
            if len(found) >= n or examined >= MAX_CANDIDATES:
                break
        return found

    def _get_clock_events(self, after: datetime.datetime | None = None) -> Iterator[_clocks.ClockEvent]:
        """The clocks' events merged in time order, consecutive equal events once."""
        if len(self.clocks) == 1:  # one clock's events are already ordered and distinct
            yield from self.clocks[0].events(after=after)
            return
        merged = heapq.merge(*(clock.events(after=after) for clock in self.clocks))
        for _, same in itertools.groupby(merged):
            yield next(same)

    def _check_filters(self, dt: datetime.datetime) -> bool:
        if not all(f(dt) for f in self.filters):
            return False
        if self.or_filters and not any(f(dt) for f in self.or_filters):
            return False
        return not (self.not_filters and any(f(dt) for f in self.not_filters))

    def _apply_adjustments(self, dt: datetime.datetime) -> datetime.datetime:
        for adjust in self.adjustments:
            dt = adjust(dt)
        return dt

    def __repr__(self) -> str:
        return f"<Schedule: {len(self.clocks)} clock(s)>"

    # -- serialization --------------------------------------------------------------------

    def serialize(self) -> dict[str, Any]:
        """A JSON-safe dict that :meth:`deserialize` turns back into an equal schedule.

        Raises:
            ScheduleSerializationError: a filter or adjustment is not one of
                ``prefect_storage.schedules.filters`` / ``.adjustments``.
        """
        from prefect_storage.core.schedules.serialization import serialize_schedule

        return serialize_schedule(self)

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> Schedule:
        """Rebuild a schedule from :meth:`serialize` output."""
        from prefect_storage.core.schedules.serialization import deserialize_schedule

        return deserialize_schedule(data)


# The argument order (start_date first) is the classic one, kept for old scripts.
def IntervalSchedule(
    start_date: datetime.datetime | None = None,
    interval: datetime.timedelta | None = None,
    end_date: datetime.datetime | None = None,
) -> Schedule:
    """A schedule of one :class:`~prefect_storage.schedules.clocks.IntervalClock`.

    ``interval`` is required despite its default (the classic signature).

    Raises:
        TypeError: no ``interval`` (or not a timedelta).
        ValueError: ``interval`` is not positive.
    """
    return Schedule(clocks=[_clocks.IntervalClock(interval=interval, start_date=start_date, end_date=end_date)])  # type: ignore[arg-type]


def CronSchedule(
    cron: str,
    start_date: datetime.datetime | None = None,
    end_date: datetime.datetime | None = None,
    day_or: bool | None = None,
) -> Schedule:
    """A schedule of one :class:`~prefect_storage.schedules.clocks.CronClock` (cron read in
    the ``start_date``'s zone, DST-aware; see there)."""
    return Schedule(clocks=[_clocks.CronClock(cron=cron, start_date=start_date, end_date=end_date, day_or=day_or)])


def RRuleSchedule(
    rrule_obj: Any,
    start_date: datetime.datetime | None = None,
    end_date: datetime.datetime | None = None,
) -> Schedule:
    """A schedule of one :class:`~prefect_storage.schedules.clocks.RRuleClock`."""
    return Schedule(clocks=[_clocks.RRuleClock(rrule_obj, start_date, end_date)])
