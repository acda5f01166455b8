"""Schedules <-> JSON-safe dicts: what the registry stores for a scheduled flow.

The shape follows classic's serialized schedules (``type`` per clock, dates as
``{"dt", "tz"}``, interval in microseconds, filters as references to the functions
of :mod:`~prefect_storage.schedules.filters` with their arguments). A time keeps its
instant *and* its IANA zone, so a cron clock read in America/New_York is still read
there after a round trip.
"""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from prefect_storage._version import __version__
from prefect_storage.core.schedules import _time, adjustments, clocks, filters
from prefect_storage.exceptions import ScheduleSerializationError

_FILTER_PREFIX = "prefect_storage.schedules.filters."
_ADJUSTMENT_PREFIX = "prefect_storage.schedules.adjustments."


# -- values ---------------------------------------------------------------------------------


def dump_datetime(dt: datetime.datetime | None) -> dict[str, Any] | None:
    if dt is None:
        return None
    value = _time.aware(dt)
    return {"dt": value.isoformat(), "tz": _time.zone_name(value.tzinfo)}


def load_datetime(data: dict[str, Any] | str | None) -> datetime.datetime | None:
    if data is None:
        return None
    if isinstance(data, str):  # a bare ISO string
        return _time.out(_time.aware(datetime.datetime.fromisoformat(data)))
    value = _time.aware(datetime.datetime.fromisoformat(data["dt"]))
    name = data.get("tz")
    if name:
        value = value.astimezone(_time.UTC if name.upper() == "UTC" else ZoneInfo(name))
    return _time.out(value)


def _dump_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return {"__datetime__": dump_datetime(value)}
    if isinstance(value, datetime.time):
        return {"__time__": value.replace(tzinfo=None).isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"__timedelta__": _time.micros(value)}
    return value


def _load_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "__datetime__" in value:
            return load_datetime(value["__datetime__"])
        if "__time__" in value:
            return datetime.time.fromisoformat(value["__time__"])
        if "__timedelta__" in value:
            return datetime.timedelta(microseconds=value["__timedelta__"])
    return value


def _dump_function(fn: Any, prefix: str, known: dict[str, Any], plain: frozenset[str], kind: str) -> dict[str, Any]:
    ref = getattr(fn, "_schedule_ref", None)
    if ref is not None:
        name, arguments = ref
        return {"fn": prefix + name, "kwargs": {k: _dump_value(v) for k, v in arguments.items()}}
    name = getattr(fn, "__name__", None)
    if name in plain and known.get(name) is fn:
        return {"fn": prefix + name, "kwargs": None}
    raise ScheduleSerializationError(
        f"Cannot serialize the schedule {kind} {fn!r}: only the functions of {prefix.rstrip('.')} can be stored "
        "with a registered flow. Express it with those, or run the flow with flow.run() instead of registering it."
    )


def _load_function(data: dict[str, Any], prefix: str, known: dict[str, Any], kind: str) -> Any:
    full = str(data.get("fn", ""))
    name = full.rsplit(".", 1)[-1]
    fn = known.get(name)
    if fn is None:
        raise ScheduleSerializationError(f"Unknown schedule {kind} {full!r} in a serialized schedule.")
    kwargs = data.get("kwargs")
    if kwargs is None:
        return fn
    return fn(**{k: _load_value(v) for k, v in kwargs.items()})


# -- clocks ---------------------------------------------------------------------------------


def serialize_clock(clock: clocks.Clock) -> dict[str, Any]:
    """One clock as a JSON-safe dict with a ``type`` key."""
    base: dict[str, Any] = {
        "type": type(clock).__name__,
        "parameter_defaults": dict(clock.parameter_defaults),
        "labels": list(clock.labels) if clock.labels is not None else None,
    }
    if isinstance(clock, clocks.IntervalClock):
        base.update(
            interval=_time.micros(clock.interval),
            start_date=dump_datetime(clock.start_date),
            end_date=dump_datetime(clock.end_date),
        )
    elif isinstance(clock, clocks.CronClock):
        base.update(
            cron=clock.cron,
            day_or=clock.day_or,
            start_date=dump_datetime(clock.start_date),
            end_date=dump_datetime(clock.end_date),
        )
    elif isinstance(clock, clocks.DatesClock):
        base.update(dates=[dump_datetime(d) for d in clock.dates])
    elif isinstance(clock, clocks.RRuleClock):
        base.update(
            rrule=_dump_rrule(clock.rrule_obj),
            start_date=dump_datetime(clock.start_date),
            end_date=dump_datetime(clock.end_date),
        )
    else:
        raise ScheduleSerializationError(
            f"Cannot serialize clock {clock!r}: use IntervalClock, CronClock, DatesClock or RRuleClock."
        )
    return base


def deserialize_clock(data: dict[str, Any]) -> clocks.Clock:
    """A clock from :func:`serialize_clock` output."""
    kind = data.get("type")
    common = {"parameter_defaults": data.get("parameter_defaults") or None, "labels": data.get("labels")}
    if kind == "IntervalClock":
        return clocks.IntervalClock(
            interval=datetime.timedelta(microseconds=data["interval"]),
            start_date=load_datetime(data.get("start_date")),
            end_date=load_datetime(data.get("end_date")),
            **common,
        )
    if kind == "CronClock":
        return clocks.CronClock(
            cron=data["cron"],
            start_date=load_datetime(data.get("start_date")),
            end_date=load_datetime(data.get("end_date")),
            day_or=data.get("day_or"),
            **common,
        )
    if kind == "DatesClock":
        dates = [load_datetime(d) for d in data["dates"]]
        return clocks.DatesClock(dates=[d for d in dates if d is not None], **common)
    if kind == "RRuleClock":
        return clocks.RRuleClock(
            _load_rrule(data["rrule"]),
            start_date=load_datetime(data.get("start_date")),
            end_date=load_datetime(data.get("end_date")),
            **common,
        )
    raise ScheduleSerializationError(f"Unknown clock type {kind!r} in a serialized schedule.")


def _dump_rrule(rule: Any) -> dict[str, Any]:
    from dateutil import rrule

    if isinstance(rule, rrule.rruleset):
        return {
            "type": "rruleset",
            "rrules": [_dump_rrule(r) for r in rule._rrule],
            "rdates": [dump_datetime(d) for d in rule._rdate],
            "exrules": [_dump_rrule(r) for r in rule._exrule],
            "exdates": [dump_datetime(d) for d in rule._exdate],
        }
    # str(rrule) drops the zones of dtstart/until: keep them beside it
    until = getattr(rule, "_until", None)
    return {
        "type": "rrule",
        "rule": str(rule),
        "dtstart": _dump_rrule_time(rule._dtstart),
        "until": _dump_rrule_time(until),
    }


def _dump_rrule_time(dt: datetime.datetime | None) -> dict[str, Any] | None:
    if dt is None:
        return None
    return {"naive": dt.isoformat()} if dt.tzinfo is None else dump_datetime(dt)


def _load_rrule_time(data: dict[str, Any] | None) -> datetime.datetime | None:
    if data is None:
        return None
    if "naive" in data:
        return datetime.datetime.fromisoformat(data["naive"])
    value = load_datetime(data)
    return _time.aware(value) if value is not None else None


def _load_rrule(data: dict[str, Any]) -> Any:
    from dateutil import rrule

    if data.get("type") == "rruleset":
        rules = rrule.rruleset()
        for r in data.get("rrules", []):
            rules.rrule(_load_rrule(r))
        for d in data.get("rdates", []):
            rules.rdate(load_datetime(d))
        for r in data.get("exrules", []):
            rules.exrule(_load_rrule(r))
        for d in data.get("exdates", []):
            rules.exdate(load_datetime(d))
        return rules
    rule = rrule.rrulestr(data["rule"], ignoretz=True)
    params: dict[str, Any] = {"dtstart": _load_rrule_time(data.get("dtstart"))}
    until = _load_rrule_time(data.get("until"))
    if until is not None:
        params["until"] = until
    return rule.replace(**params)


# -- schedules ------------------------------------------------------------------------------


def serialize_schedule(schedule: Any) -> dict[str, Any]:
    """A :class:`Schedule` as a JSON-safe dict (``type``, ``clocks``, the filters and adjustments)."""

    def dump_filters(fns: list[Any]) -> list[dict[str, Any]]:
        return [_dump_function(f, _FILTER_PREFIX, filters.FILTERS, filters.PLAIN_FILTERS, "filter") for f in fns]

    return {
        "type": "Schedule",
        "__version__": __version__,
        "clocks": [serialize_clock(c) for c in schedule.clocks],
        "filters": dump_filters(schedule.filters),
        "or_filters": dump_filters(schedule.or_filters),
        "not_filters": dump_filters(schedule.not_filters),
        "adjustments": [
            _dump_function(a, _ADJUSTMENT_PREFIX, adjustments.ADJUSTMENTS, adjustments.PLAIN_ADJUSTMENTS, "adjustment")
            for a in schedule.adjustments
        ],
    }


def deserialize_schedule(data: dict[str, Any]) -> Any:
    """A :class:`Schedule` from :func:`serialize_schedule` output."""
    from prefect_storage.core.schedules.schedules import Schedule

    if not isinstance(data, dict) or "clocks" not in data:
        raise ScheduleSerializationError(f"Not a serialized schedule: {data!r:.200}")

    def load_filters(key: str) -> list[Any]:
        return [_load_function(f, _FILTER_PREFIX, filters.FILTERS, "filter") for f in data.get(key) or []]

    return Schedule(
        clocks=[deserialize_clock(c) for c in data["clocks"]],
        filters=load_filters("filters"),
        or_filters=load_filters("or_filters"),
        not_filters=load_filters("not_filters"),
        adjustments=[
            _load_function(a, _ADJUSTMENT_PREFIX, adjustments.ADJUSTMENTS, "adjustment") for a in data.get("adjustments") or []
        ],
    )
