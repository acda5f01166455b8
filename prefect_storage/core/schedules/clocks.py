"""Clocks: the sources of candidate run times of a :class:`~prefect_storage.schedules.Schedule`.

Each clock yields :class:`ClockEvent` objects in time order from :meth:`Clock.events`:

* :class:`IntervalClock` — ``start_date + k * interval``;
* :class:`CronClock` — a cron expression (via ``croniter``) read on the wall clock of
  the ``start_date``'s time zone (UTC without one);
* :class:`DatesClock` — a fixed list of dates;
* :class:`RRuleClock` — an iCalendar recurrence rule (``dateutil.rrule``).

Every clock may carry ``parameter_defaults`` (the parameter values of the runs it
starts) and ``labels`` (the labels of those runs).
"""

from __future__ import annotations

import datetime
import functools
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from prefect_storage.core.schedules import _time

_DEFAULT_INTERVAL_START = datetime.datetime(2019, 1, 1, tzinfo=_time.UTC)
_CRON_MAX_EVENTS = 1000  # per events() call, as classic: a cron stream is re-opened on the next call


class ClockEvent:
    """One candidate run time and what a run at that time gets.

    Compared with a ``datetime`` it compares by ``start_time``; two events are equal
    when their time, parameter defaults and labels all match; ``<`` and ``>`` order by
    time only (so events of several clocks merge in time order).
    """

    def __init__(
        self,
        start_time: datetime.datetime,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.start_time = start_time
        self.parameter_defaults = parameter_defaults or {}
        self.labels = labels

    def __eq__(self, other: object) -> bool:
        if isinstance(other, datetime.datetime):
            return self.start_time == other
        if not isinstance(other, ClockEvent):
            return False
        return (
            self.start_time == other.start_time
            and self.parameter_defaults == other.parameter_defaults
            and self.labels == other.labels
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def _other_time(self, other: object, op: str) -> datetime.datetime:
        if isinstance(other, ClockEvent):
            return other.start_time
        if isinstance(other, datetime.datetime):
            return other
        raise TypeError(f"'{op}' not supported between instances of 'ClockEvent' and {type(other).__name__}")

    def __lt__(self, other: object) -> bool:
        return self.start_time < self._other_time(other, "<")

    def __gt__(self, other: object) -> bool:
        return self.start_time > self._other_time(other, ">")

    def __repr__(self) -> str:
        return f"<{self.start_time},{self.labels},{self.parameter_defaults}>"


class Clock:
    """Base class of the clocks.

    Args:
        start_date: no event before this time (naive means UTC).
        end_date: no event after this time (inclusive).
        parameter_defaults: parameter values for the runs started on this clock's events.
        labels: labels of the runs started on this clock's events.
    """

    def __init__(
        self,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        self.start_date = _time.out(_time.aware(start_date)) if start_date is not None else None
        self.end_date = _time.out(_time.aware(end_date)) if end_date is not None else None
        self.parameter_defaults = parameter_defaults or {}
        self.labels = labels

    def events(self, after: datetime.datetime | None = None) -> Iterable[ClockEvent]:
        """The clock's events strictly after ``after`` (default: now), in time order."""
        raise NotImplementedError("Clock subclasses implement events(); use IntervalClock, CronClock or DatesClock.")

    def _event(self, start_time: datetime.datetime) -> ClockEvent:
        return ClockEvent(_time.out(start_time), parameter_defaults=self.parameter_defaults, labels=self.labels)

    def _past_end(self, when: datetime.datetime) -> bool:
        return self.end_date is not None and when > self.end_date

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: start={self.start_date} end={self.end_date}>"

    def serialize(self) -> dict[str, Any]:
        """JSON-safe description of this clock (see :mod:`~prefect_storage.core.schedules.serialization`)."""
        from prefect_storage.core.schedules.serialization import serialize_clock

        return serialize_clock(self)


class IntervalClock(Clock):
    """Fires every ``interval`` from ``start_date`` (default 2019-01-01 00:00 UTC).

    The whole days of the interval are added on the calendar of the ``start_date``'s
    zone and the rest as elapsed time. So a daily clock at 09:00 America/New_York stays
    at 09:00 local across daylight-saving changes, while an hourly clock fires every
    elapsed hour (twice at 01:xx local when clocks go back, and skipping 02:xx when they
    go forward). Any positive interval is accepted, 1 second included.

    Raises:
        TypeError: ``interval`` is not a ``timedelta``.
        ValueError: ``interval`` is not positive.
    """

    def __init__(
        self,
        interval: datetime.timedelta,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        if not isinstance(interval, datetime.timedelta):
            raise TypeError("Interval must be a timedelta.")
        if interval <= datetime.timedelta(0):
            raise ValueError("Interval must be greater than 0.")
        self.interval = interval
        super().__init__(start_date=start_date, end_date=end_date, parameter_defaults=parameter_defaults, labels=labels)

    def _nth(self, start: datetime.datetime, k: int) -> datetime.datetime:
        days = self.interval.days * k
        rest = (self.interval - datetime.timedelta(days=self.interval.days)) * k
        return _time.add_absolute(_time.add_days(start, days), rest)

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        start = _time.aware(self.start_date) if self.start_date is not None else _DEFAULT_INTERVAL_START
        after_utc = _time.to_utc(after) if after is not None else _time.now()
        end = _time.to_utc(self.end_date) if self.end_date is not None else None
        step = _time.micros(self.interval)
        elapsed = _time.micros(after_utc - start.astimezone(_time.UTC))
        if elapsed < 0:
            k = 0
        elif self.interval.days == 0:  # pure elapsed time: exact
            k = elapsed // step + 1
        else:  # calendar days drift from elapsed time by DST offsets (hours): start a bit early
            k = max(0, elapsed // step - 1)
        last: datetime.datetime | None = None
        while True:
            when = self._nth(start, k)
            k += 1
            when_utc = when.astimezone(_time.UTC)
            if when_utc <= after_utc or (last is not None and when_utc <= last):
                continue
            if end is not None and when_utc > end:
                return
            last = when_utc
            yield self._event(when)


class CronClock(Clock):
    """Fires on a cron expression, read on the wall clock of the ``start_date``'s zone
    (UTC when there is no ``start_date``).

    Cron is wall-clock based: ``0 9 * * *`` is 09:00 local on both sides of a
    daylight-saving change; an hourly cron fires at each new wall-clock hour (once for
    the hour repeated when clocks go back, at its standard-time occurrence; the hour
    skipped when they go forward fires at the first instant after the gap).
    ``start_date`` is inclusive; a start with microseconds begins at the next whole
    second.

    Args:
        cron: a cron expression ``croniter`` accepts.
        day_or: ``True`` (default, standard cron): day-of-month and day-of-week are
            OR-ed; ``False``: AND-ed (``0 0 1-7 * 2`` = the first Tuesday of each month).

    Raises:
        ValueError: ``cron`` is not a valid cron expression.
    """

    def __init__(
        self,
        cron: str,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
        day_or: bool | None = None,
    ) -> None:
        expanded: Any = None
        if isinstance(cron, str):
            try:  # croniter's own validity check (is_valid) is this expansion
                expanded = _expand(cron)
            except Exception:
                expanded = None
        if expanded is None:
            raise ValueError(f"Invalid cron string: {cron}")
        self._fields = _plain_fields(expanded)
        self.cron = cron
        self.day_or = True if day_or is None else day_or
        super().__init__(start_date=start_date, end_date=end_date, parameter_defaults=parameter_defaults, labels=labels)

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        from croniter import croniter

        start = _time.aware(self.start_date) if self.start_date is not None else None
        tz = start.tzinfo if start is not None else _time.UTC
        assert tz is not None
        after_local = _time.in_zone(after, tz) if after is not None else _time.now(tz)
        if start is not None:
            after_local = max(after_local, start - datetime.timedelta(seconds=1))
        after_utc = after_local.astimezone(_time.UTC)
        end = _time.to_utc(self.end_date) if self.end_date is not None else None
        # croniter walks naive wall-clock times; we place each on the zone's timeline.
        wall = after_local.replace(tzinfo=None)
        if wall.microsecond:
            wall = wall.replace(microsecond=0) + datetime.timedelta(seconds=1)
        if self._fields is not None:
            walls: Iterator[datetime.datetime] = _walk_fields(self._fields, self.day_or, wall)
        else:  # seconds, L, # and other croniter extensions: croniter walks
            walker = croniter(self.cron, wall, day_or=self.day_or)
            walls = (walker.get_next(datetime.datetime) for _ in range(_CRON_MAX_EVENTS))
        last = after_utc
        for wall_time in itertools.islice(walls, _CRON_MAX_EVENTS):
            when = _time.localize(wall_time, tz)
            when_utc = when.astimezone(_time.UTC)
            if when_utc <= last:  # an hour repeated or skipped by a DST change
                continue
            if end is not None and when_utc > end:
                return
            last = when_utc
            yield self._event(when)


@functools.lru_cache(maxsize=4096)
def _expand(cron: str) -> Any:
    from croniter import croniter

    return croniter.expand(cron)


_FULL = (range(60), range(24), range(1, 32), range(1, 13), range(7))
_MAX_CRON_DAYS = 366 * 30  # an expression that matches no day in 30 years matches none (31 Feb)


def _plain_fields(expanded: Any) -> tuple[Any, ...] | None:
    """croniter's parse of a plain five-field expression as sorted sets; ``None`` when it
    uses anything else (seconds, ``L``, ``#``), which croniter then walks itself."""
    fields, nth_weekday = expanded
    if len(fields) != 5 or nth_weekday:
        return None
    if any(isinstance(v, str) and v != "*" for field in fields for v in field):
        return None
    sets = [tuple(full) if field == ["*"] else tuple(sorted({int(v) for v in field})) for field, full in zip(fields, _FULL)]
    minutes, hours, doms, months, dows = sets
    return minutes, hours, frozenset(doms), frozenset(months), frozenset(d % 7 for d in dows), fields[2] == ["*"], fields[4] == ["*"]


def _walk_fields(fields: tuple[Any, ...], day_or: bool, wall: datetime.datetime) -> Iterator[datetime.datetime]:
    """The naive wall-clock times matching ``fields`` strictly after ``wall``, in order
    (croniter's semantics for plain expressions, without its per-step cost)."""
    minutes, hours, doms, months, dows, dom_any, dow_any = fields
    start = wall.replace(second=0, microsecond=0) + datetime.timedelta(minutes=1)
    day = start.date()
    for offset in range(_MAX_CRON_DAYS):
        if day.month in months:
            dom_ok = day.day in doms
            dow_ok = (day.weekday() + 1) % 7 in dows  # cron counts Sunday as 0
            if dom_any or dow_any or not day_or:
                matches = dom_ok and dow_ok
            else:
                matches = dom_ok or dow_ok
            if matches:
                first_day = offset == 0
                for hour in hours:
                    if first_day and hour < start.hour:
                        continue
                    for minute in minutes:
                        if first_day and hour == start.hour and minute < start.minute:
                            continue
                        yield datetime.datetime(day.year, day.month, day.day, hour, minute)
        day += datetime.timedelta(days=1)


class DatesClock(Clock):
    """Fires on each of ``dates`` (``start_date``/``end_date`` are their min and max)."""

    def __init__(
        self,
        dates: list[datetime.datetime],
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        super().__init__(
            start_date=min(dates, key=_time.to_utc),
            end_date=max(dates, key=_time.to_utc),
            parameter_defaults=parameter_defaults,
            labels=labels,
        )
        self.dates = dates

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        after_utc = _time.to_utc(after) if after is not None else _time.now()
        for date in sorted(self.dates, key=_time.to_utc):
            if _time.to_utc(date) > after_utc:
                yield ClockEvent(
                    date if date.tzinfo is not None else _time.out(_time.aware(date)),
                    parameter_defaults=self.parameter_defaults,
                    labels=self.labels,
                )


class RRuleClock(Clock):
    """Fires on an iCalendar recurrence rule: a ``dateutil.rrule.rrule`` or ``rruleset``.

    ``start_date`` is inclusive, as is ``end_date``.

    Raises:
        TypeError: ``rrule_obj`` is not an rrule or rruleset.
    """

    def __init__(
        self,
        rrule_obj: Any,
        start_date: datetime.datetime | None = None,
        end_date: datetime.datetime | None = None,
        parameter_defaults: dict[str, Any] | None = None,
        labels: list[str] | None = None,
    ) -> None:
        from dateutil import rrule

        if not isinstance(rrule_obj, rrule.rrulebase):
            raise TypeError(f"rrule_obj must be a dateutil rrule or rruleset, got: {rrule_obj!r}")
        super().__init__(start_date=start_date, end_date=end_date, parameter_defaults=parameter_defaults, labels=labels)
        self.rrule_obj = rrule_obj

    def events(self, after: datetime.datetime | None = None) -> Iterator[ClockEvent]:
        inclusive = after is None
        moment = _time.now() if after is None else after
        if self.start_date is not None and _time.to_utc(moment) < _time.to_utc(self.start_date):
            moment, inclusive = self.start_date, True
        # rrule compares with its own awareness: match ``moment`` to the rule's first item
        first = next(iter(self.rrule_obj), None)
        if first is not None and first.tzinfo is None:
            moment = _time.to_utc(moment).replace(tzinfo=None) if moment.tzinfo is not None else moment
        elif first is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=_time.UTC)
        end = _time.to_utc(self.end_date) if self.end_date is not None else None
        for when in self.rrule_obj.xafter(moment, inc=inclusive):
            when = _time.aware(when)
            if end is not None and when.astimezone(_time.UTC) > end:
                return
            yield self._event(when)
