"""Time-zone arithmetic for schedules on the standard library (``zoneinfo``).

Classic Prefect did this with pendulum. Here every computation runs on plain aware
``datetime`` objects whose zone is a :class:`zoneinfo.ZoneInfo` (or a fixed offset);
pendulum objects are accepted anywhere a ``datetime`` is (they are ``datetime``
subclasses), and when pendulum is already imported by the caller's program the times
handed back are pendulum ``DateTime`` objects, which classic code calls methods such
as ``.in_tz()`` or ``.add()`` on. pendulum itself is never required.
"""

from __future__ import annotations

import datetime
import sys
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = datetime.timezone.utc
_ONE_US = datetime.timedelta(microseconds=1)


def zone_name(tz: datetime.tzinfo | None) -> str | None:
    """The IANA name of ``tz`` when it has one (zoneinfo, pendulum, pytz, dateutil)."""
    if tz is None:
        return None
    if tz is UTC:
        return "UTC"
    for attr in ("key", "name", "zone"):
        value = getattr(tz, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


def normalize_zone(tz: datetime.tzinfo | None) -> datetime.tzinfo:
    """A PEP 495 zone equal to ``tz``: a ``ZoneInfo`` when ``tz`` names an IANA zone
    (pendulum's, pytz's and dateutil's zones are converted), else ``tz`` itself."""
    if tz is None:
        return UTC
    if isinstance(tz, (ZoneInfo, datetime.timezone)) and type(tz) in (ZoneInfo, datetime.timezone):
        return tz
    name = zone_name(tz)
    if name is not None:
        if name.upper() == "UTC":
            return UTC
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    offset = tz.utcoffset(None)
    if offset is not None:
        return datetime.timezone(offset)
    return tz


def aware(dt: datetime.datetime) -> datetime.datetime:
    """``dt`` as an aware plain ``datetime`` in a normalized zone; naive means UTC (as classic)."""
    if not isinstance(dt, datetime.datetime):
        raise TypeError(f"Expected a datetime, got {type(dt).__name__}: {dt!r}")
    if dt.tzinfo is None:
        return datetime.datetime(
            dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, dt.microsecond, tzinfo=UTC
        )
    zone = normalize_zone(dt.tzinfo)
    if type(dt) is datetime.datetime and dt.tzinfo is zone:
        return dt
    u = dt.astimezone(UTC)  # the object's own conversion (pendulum, pytz and dateutil are right about theirs)
    plain = datetime.datetime(u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tzinfo=UTC)
    return plain.astimezone(zone)


def to_utc(dt: datetime.datetime) -> datetime.datetime:
    """``dt`` (naive = UTC) as a plain UTC ``datetime``."""
    return aware(dt).astimezone(UTC)


def in_zone(dt: datetime.datetime, tz: datetime.tzinfo) -> datetime.datetime:
    """The same instant as ``dt`` on the wall clock of ``tz``."""
    return to_utc(dt).astimezone(tz)


def localize(wall: datetime.datetime, tz: datetime.tzinfo) -> datetime.datetime:
    """The instant a naive wall-clock time ``wall`` names in ``tz``.

    Like classic (pytz ``localize(is_dst=False)``), standard time wins: a repeated wall
    time (clocks go back) is its *standard-time* occurrence, and a wall time skipped
    when clocks go forward is read with the standard offset from before the change
    (02:30 in a 02:00->03:00 gap is 03:30 daylight time).
    """
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    off1, off2 = first.utcoffset(), second.utcoffset()
    if off1 == off2:
        return first
    round1 = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
    round2 = second.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
    candidates = [c for c, ok in ((first, round1), (second, round2)) if ok]
    if len(candidates) == 2:  # repeated hour: standard time (smaller DST), else the later one
        candidates.sort(key=lambda c: (c.dst() or datetime.timedelta(0), -c.fold))
        chosen = candidates[0]
    else:  # skipped hour: the offset in force before the change
        chosen = first if (first.dst() or datetime.timedelta(0)) <= (second.dst() or datetime.timedelta(0)) else second
    return chosen.astimezone(UTC).astimezone(tz)


def add_days(dt: datetime.datetime, days: int) -> datetime.datetime:
    """``dt`` moved by ``days`` calendar days on its own wall clock (DST-preserving)."""
    if not days:
        return dt
    tz = dt.tzinfo or UTC
    return localize(dt.replace(tzinfo=None) + datetime.timedelta(days=days), tz)


def add_absolute(dt: datetime.datetime, delta: datetime.timedelta) -> datetime.datetime:
    """``dt`` moved by ``delta`` of elapsed time, kept in its zone."""
    tz = dt.tzinfo or UTC
    return (dt.astimezone(UTC) + delta).astimezone(tz)


def now(tz: datetime.tzinfo = UTC) -> datetime.datetime:
    return datetime.datetime.now(UTC).astimezone(tz)


def micros(delta: datetime.timedelta) -> int:
    """``delta`` in whole microseconds, exactly."""
    return delta // _ONE_US


def is_pendulum(value: Any) -> bool:
    return type(value).__module__.split(".")[0] == "pendulum"


def out(dt: datetime.datetime) -> datetime.datetime:
    """A time to hand back to the caller: plain ``datetime``, or pendulum ``DateTime`` when
    the program has imported pendulum (same instant, same zone)."""
    pendulum = sys.modules.get("pendulum")
    if pendulum is None or is_pendulum(dt) or not hasattr(pendulum, "datetime"):
        return dt
    u = dt.astimezone(UTC)
    as_utc = pendulum.datetime(u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tz="UTC")
    name = zone_name(dt.tzinfo)
    if name is None:
        offset = dt.utcoffset() or datetime.timedelta(0)
        return as_utc.in_tz(pendulum.timezone(int(offset.total_seconds())))
    return as_utc.in_tz(name)
