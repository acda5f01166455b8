"""Schedules without any service: clocks, filters, adjustments, time zones and DST,
serialization round trips, and properties that must hold for any interval or cron."""

from __future__ import annotations

import datetime
import itertools
import json
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefect_storage.core.schedules import clocks as cron_impl
from prefect_storage.exceptions import ScheduleSerializationError
from prefect_storage.schedules import (
    CronSchedule,
    IntervalSchedule,
    RRuleSchedule,
    Schedule,
    adjustments,
    clocks,
    filters,
)

UTC = datetime.timezone.utc
NY = ZoneInfo("America/New_York")
D = datetime.datetime
H = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def first(iterable, n):
    return list(itertools.islice(iterable, n))


def local_hours(events, tz=NY):
    return [e.start_time.astimezone(tz).hour for e in events]


def utc_hours(events):
    return [e.start_time.astimezone(UTC).hour for e in events]


# -- ClockEvent -------------------------------------------------------------------------------


def test_clock_event_compares_with_datetimes_by_time_and_with_events_by_all_fields():
    t = D(2030, 1, 1, tzinfo=UTC)
    a = clocks.ClockEvent(t, parameter_defaults={"x": 1}, labels=["l"])
    assert a == t and a < t + H and a > t - H
    assert a != clocks.ClockEvent(t) and a == clocks.ClockEvent(t, {"x": 1}, ["l"])
    assert clocks.ClockEvent(t).parameter_defaults == {} and clocks.ClockEvent(t).labels is None
    assert repr(a) == "<2030-01-01 00:00:00+00:00,['l'],{'x': 1}>"
    with pytest.raises(TypeError, match="'<' not supported"):
        a < 3  # noqa: B015


# -- IntervalClock ----------------------------------------------------------------------------


def test_interval_clock_validates_its_interval():
    with pytest.raises(TypeError, match="Interval must be a timedelta"):
        clocks.IntervalClock(interval=None)
    for bad in (datetime.timedelta(0), -H):
        with pytest.raises(ValueError, match="greater than 0"):
            clocks.IntervalClock(bad)
    assert clocks.IntervalClock(datetime.timedelta(seconds=1)).interval == datetime.timedelta(seconds=1)


def test_interval_clock_events_are_strictly_after_and_include_start_and_end():
    start = D(2018, 1, 1, tzinfo=UTC)
    c = clocks.IntervalClock(H, start_date=start, end_date=start + 2 * H)
    assert first(c.events(after=D(2000, 1, 1, tzinfo=UTC)), 5) == [start, start + H, start + 2 * H]
    assert first(c.events(after=start), 5) == [start + H, start + 2 * H]  # an event equal to `after` is skipped
    assert first(c.events(after=start + datetime.timedelta(microseconds=1)), 1) == [start + H]


def test_interval_clock_default_start_and_default_after_now():
    c = clocks.IntervalClock(DAY)
    today = D.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert first(c.events(), 2) == [today + DAY, today + 2 * DAY]  # aligned on 2019-01-01 00:00 UTC


def test_naive_dates_are_utc():
    c = clocks.IntervalClock(H, start_date=D(2020, 1, 1))
    assert c.start_date == D(2020, 1, 1, tzinfo=UTC)
    assert first(c.events(after=D(2020, 1, 1)), 1) == [D(2020, 1, 1, 1, tzinfo=UTC)]


def test_hourly_interval_follows_elapsed_time_across_dst():
    spring = D(2018, 3, 10, 23, tzinfo=NY)
    events = first(clocks.IntervalClock(H, start_date=spring).events(after=spring), 4)
    assert local_hours(events) == [0, 1, 3, 4] and utc_hours(events) == [5, 6, 7, 8]
    autumn = D(2018, 11, 3, 23, tzinfo=NY)
    events = first(clocks.IntervalClock(H, start_date=autumn).events(after=autumn), 4)
    assert local_hours(events) == [0, 1, 1, 2] and utc_hours(events) == [4, 5, 6, 7]


def test_daily_interval_keeps_the_wall_clock_time_across_dst():
    spring = D(2018, 3, 8, 9, tzinfo=NY)
    events = first(clocks.IntervalClock(DAY, start_date=spring).events(after=spring), 4)
    assert local_hours(events) == [9, 9, 9, 9] and utc_hours(events) == [14, 14, 13, 13]
    autumn = D(2018, 11, 1, 9, tzinfo=NY)
    events = first(clocks.IntervalClock(DAY, start_date=autumn).events(after=autumn), 4)
    assert local_hours(events) == [9, 9, 9, 9] and utc_hours(events) == [13, 13, 14, 14]


def test_daily_interval_does_not_skip_a_day_after_the_autumn_change():
    start = D(2018, 11, 1, 9, tzinfo=NY)  # 13:00 UTC; after the change 09:00 local is 14:00 UTC
    after = D(2018, 11, 5, 13, 30, tzinfo=UTC)
    assert first(clocks.IntervalClock(DAY, start_date=start).events(after=after), 1) == [D(2018, 11, 5, 9, tzinfo=NY)]


def test_interval_clock_accepts_pytz_like_zone_objects_by_name():
    dateutil_tz = pytest.importorskip("dateutil.tz")
    start = D(2018, 3, 8, 9, tzinfo=dateutil_tz.gettz("America/New_York"))
    events = first(clocks.IntervalClock(DAY, start_date=start).events(after=start), 4)
    assert utc_hours(events) == [14, 14, 13, 13]


# -- CronClock ------------------------------------------------------------------------------


def test_cron_clock_validates_and_defaults_day_or():
    for bad in ("*", "hello world", 1, "* * 32 1 1"):
        with pytest.raises(ValueError, match="Invalid cron string"):
            clocks.CronClock(bad)
    assert clocks.CronClock("* * * * *").day_or is True
    assert clocks.CronClock("* * * * *", day_or=False).day_or is False


def test_cron_clock_start_date_is_inclusive_and_end_date_inclusive():
    start = D(2050, 1, 1, tzinfo=UTC)
    c = clocks.CronClock("0 0 * * *", start_date=start, end_date=start + DAY)
    assert first(c.events(), 5) == [start, start + DAY]
    assert first(clocks.CronClock("0 0 * * *", start_date=start + 6 * H).events(), 1) == [start + DAY]
    assert first(clocks.CronClock("0 0 * * *", start_date=D(2050, 1, 1, 0, 0, 0, 1, tzinfo=UTC)).events(), 1) == [
        start + DAY
    ]


def test_cron_day_or_false_means_and():
    c = clocks.CronClock("0 0 1 * MON", day_or=False)
    assert first(c.events(after=D(2020, 1, 1, tzinfo=UTC)), 2) == [D(2020, 6, 1, tzinfo=UTC), D(2021, 2, 1, tzinfo=UTC)]
    either = first(clocks.CronClock("0 0 1 * MON").events(after=D(2020, 1, 1, tzinfo=UTC)), 3)
    assert either == [D(2020, 1, 6, tzinfo=UTC), D(2020, 1, 13, tzinfo=UTC), D(2020, 1, 20, tzinfo=UTC)]


def test_cron_is_read_in_the_start_dates_zone_across_dst():
    spring = D(2018, 3, 10, 23, tzinfo=NY)
    events = first(clocks.CronClock("0 * * * *", spring).events(after=spring), 4)
    assert local_hours(events) == [0, 1, 3, 4] and utc_hours(events) == [5, 6, 7, 8]
    autumn = D(2018, 11, 3, 23, tzinfo=NY)
    events = first(clocks.CronClock("0 * * * *", autumn).events(after=autumn), 4)
    assert local_hours(events) == [0, 1, 2, 3] and utc_hours(events) == [4, 6, 7, 8]  # 01:00 once, standard time
    nine = first(clocks.CronClock("0 9 * * *", D(2018, 3, 8, 9, tzinfo=NY)).events(after=D(2018, 3, 8, 9, tzinfo=NY)), 4)
    assert local_hours(nine) == [9] * 4 and utc_hours(nine) == [14, 14, 13, 13]


def test_cron_without_start_date_is_utc_and_survives_a_midnight_dst_gap():
    after = D(2018, 3, 11, tzinfo=NY)
    assert utc_hours(first(clocks.CronClock("0 * * * *").events(after=after), 4)) == [6, 7, 8, 9]
    santiago = ZoneInfo("America/Santiago")
    start = D(2022, 8, 21, 10, tzinfo=santiago)  # clocks skip midnight on 2022-09-04
    days = [e.start_time.astimezone(santiago).day for e in first(clocks.CronClock("0 0 * * 0", start).events(after=start), 4)]
    assert days == [28, 4, 11, 18]


def test_cron_events_keep_the_clock_zone():
    start = D(2019, 3, 14, tzinfo=ZoneInfo("US/Pacific"))
    event = first(clocks.CronClock("30 6 * * 1-5", start_date=start).events(after=D(2019, 5, 1, tzinfo=UTC)), 1)[0]
    assert event.start_time == D(2019, 5, 1, 6, 30, tzinfo=ZoneInfo("US/Pacific"))
    assert event.start_time.utcoffset() == datetime.timedelta(hours=-7)


# -- DatesClock and RRuleClock ---------------------------------------------------------------


def test_dates_clock_sorts_and_filters_its_dates():
    base = D(2030, 1, 1, tzinfo=UTC)
    c = clocks.DatesClock([base + DAY, base, base + 2 * DAY], parameter_defaults={"y": 9}, labels=["a"])
    assert c.start_date == base and c.end_date == base + 2 * DAY
    events = first(c.events(after=base), 5)
    assert events == [base + DAY, base + 2 * DAY] and all(e.parameter_defaults == {"y": 9} and e.labels == ["a"] for e in events)
    with pytest.raises(TypeError):
        clocks.DatesClock()


def test_rrule_clock():
    from dateutil import rrule

    start = D(2020, 1, 1, tzinfo=UTC)
    c = clocks.RRuleClock(rrule.rrule(freq=rrule.HOURLY, dtstart=D(2018, 1, 1, tzinfo=UTC)), start_date=start)
    assert first(c.events(after=D(2000, 1, 1, tzinfo=UTC)), 2) == [start, start + H]
    with pytest.raises(TypeError):
        clocks.RRuleClock(42)
    assert RRuleSchedule(rrule.rrule(freq=rrule.DAILY, dtstart=start, count=2)).next(5, after=start) == [start + DAY]


def test_base_clock_has_no_events():
    with pytest.raises(NotImplementedError):
        next(iter(clocks.Clock().events()))


# -- Schedule -------------------------------------------------------------------------------


def test_schedule_requires_a_list_of_clocks_and_allows_an_empty_one():
    with pytest.raises(TypeError):
        Schedule()
    with pytest.raises(TypeError, match="clocks should be a list of clocks"):
        Schedule(clocks=clocks.IntervalClock(DAY))
    assert Schedule(clocks=[]).next(3) == [] and Schedule(clocks=[]).start_date is None
    with pytest.raises(TypeError):
        IntervalSchedule()


def test_schedule_merges_clocks_and_keeps_same_time_events_with_different_parameters():
    t = D(2020, 3, 1, tzinfo=UTC)
    same = Schedule(clocks=[clocks.DatesClock([t]), clocks.DatesClock([t])])
    assert len(same.next(2, after=D(2019, 1, 1, tzinfo=UTC), return_events=True)) == 1
    differ = Schedule(clocks=[clocks.DatesClock([t], {"a": 1}), clocks.DatesClock([t], {"a": 2})])
    events = differ.next(2, after=D(2019, 1, 1, tzinfo=UTC), return_events=True)
    assert [e.start_time for e in events] == [t, t] and {e.parameter_defaults["a"] for e in events} == {1, 2}


def test_filters_or_filters_not_filters_and_adjustments():
    thursday = D(2019, 1, 3, tzinfo=UTC)
    s = Schedule(
        clocks=[clocks.IntervalClock(H)],
        filters=[filters.is_weekday],
        or_filters=[filters.at_time(datetime.time(9)), filters.at_time(datetime.time(15))],
        not_filters=[filters.between_dates(1, 8, 1, 8)],
        adjustments=[adjustments.add(datetime.timedelta(hours=3))],
    )
    got = s.next(6, after=thursday)
    assert [(t.day, t.hour) for t in got] == [(3, 12), (3, 18), (4, 12), (4, 18), (7, 12), (7, 18)]
    assert all(isinstance(t, datetime.datetime) for t in got)


def test_adjusted_times_are_not_deduplicated():
    s = Schedule(clocks=[clocks.IntervalClock(DAY)], not_filters=[filters.is_weekday], adjustments=[adjustments.next_weekday])
    assert s.next(2, after=D(2019, 1, 4, tzinfo=UTC)) == [D(2019, 1, 7, tzinfo=UTC)] * 2


def test_schedule_start_and_end_dates():
    s = Schedule(
        clocks=[
            clocks.IntervalClock(H, start_date=D(2018, 1, 1, tzinfo=UTC), end_date=D(2019, 1, 1, tzinfo=UTC)),
            clocks.IntervalClock(H, start_date=D(2019, 1, 1, tzinfo=UTC), end_date=D(2020, 1, 1, tzinfo=UTC)),
        ]
    )
    assert (s.start_date, s.end_date) == (D(2018, 1, 1, tzinfo=UTC), D(2020, 1, 1, tzinfo=UTC))


def test_next_stops_after_ten_thousand_candidates():
    s = Schedule(clocks=[clocks.IntervalClock(datetime.timedelta(minutes=1))], filters=[filters.on_date(2, 30)])
    assert s.next(1, after=D(2020, 1, 1, tzinfo=UTC)) == []


# -- filters and adjustments ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("dt", "expected"),
    [(D(2019, 1, 31), True), (D(2019, 2, 28), True), (D(2020, 2, 28), False), (D(2020, 2, 29), True), (D(2019, 1, 20), False)],
)
def test_is_month_end(dt, expected):
    assert filters.is_month_end(dt) is expected


def test_filters():
    dt = D(2019, 6, 1, 6, tzinfo=UTC)  # a Saturday
    assert filters.between_dates(12, 1, 1, 31)(D(2020, 1, 5)) and not filters.between_dates(6, 2, 5, 31)(dt)
    assert filters.between_times(datetime.time(7), datetime.time(6))(dt)
    assert not filters.between_times(datetime.time(7), datetime.time(5))(dt)
    assert filters.at_time(datetime.time(6))(dt) and not filters.at_time(datetime.time(6))(dt + datetime.timedelta(seconds=1))
    assert filters.is_weekend(dt) and not filters.is_weekday(dt) and filters.is_day_of_week(5)(dt)
    assert filters.is_month_start(dt) and filters.on_date(6, 1)(dt) and filters.on_datetime(dt)(dt)
    assert filters.between_datetimes(dt - H, dt + H)(dt) and not filters.between_datetimes(dt + H, dt + H)(dt)


def test_adjustments():
    saturday = D(2019, 1, 5, 9, tzinfo=UTC)
    monday = D(2019, 1, 7, 9, tzinfo=UTC)
    assert adjustments.next_weekday(saturday) == monday
    assert adjustments.next_weekday(monday) is monday
    # add() is elapsed time: across the spring change 3 h after 00:00 EST is 04:00 EDT
    assert adjustments.add(3 * H)(D(2018, 3, 11, tzinfo=NY)) == D(2018, 3, 11, 4, tzinfo=NY)


# -- serialization --------------------------------------------------------------------------


def test_schedule_round_trips_through_json_with_zones_filters_and_adjustments():
    from dateutil import rrule

    original = Schedule(
        clocks=[
            clocks.IntervalClock(H, start_date=D(2018, 11, 3, 23, tzinfo=NY), labels=["a"], parameter_defaults={"x": 1}),
            clocks.CronClock("0 9 * * *", start_date=D(2018, 3, 8, 9, tzinfo=NY), day_or=False),
            clocks.DatesClock([D(2030, 1, 1, tzinfo=UTC)]),
            clocks.RRuleClock(rrule.rrule(freq=rrule.DAILY, dtstart=D(2018, 1, 1, tzinfo=UTC))),
        ],
        filters=[filters.is_weekday, filters.between_times(datetime.time(0), datetime.time(23))],
        or_filters=[filters.on_datetime(D(2018, 11, 5, 9, tzinfo=NY)), filters.between_dates(1, 1, 12, 31)],
        not_filters=[filters.is_day_of_week(6)],
        adjustments=[adjustments.add(datetime.timedelta(minutes=5)), adjustments.next_weekday],
    )
    data = json.loads(json.dumps(original.serialize()))
    copy = Schedule.deserialize(data)
    after = D(2018, 11, 1, tzinfo=UTC)
    assert copy.next(20, after=after, return_events=True) == original.next(20, after=after, return_events=True)
    assert copy.clocks[0].start_date.tzinfo == NY
    assert copy.serialize() == data


def test_custom_filters_cannot_be_serialized():
    s = Schedule(clocks=[clocks.IntervalClock(H)], filters=[lambda dt: True])
    with pytest.raises(ScheduleSerializationError, match="only the functions of"):
        s.serialize()
    with pytest.raises(ScheduleSerializationError):
        Schedule.deserialize({"nope": 1})


def test_classic_schema_names():
    from prefect_storage.serialization.schedule import ClockSchema, ScheduleSchema

    clock = clocks.CronClock("0 * * * *", D(2018, 3, 10, 23, tzinfo=NY))
    copy = ClockSchema().load(ClockSchema().dump(clock))
    assert first(copy.events(after=clock.start_date), 4) == first(clock.events(after=clock.start_date), 4)
    s = CronSchedule("0 9 * * *")
    assert ScheduleSchema().load(ScheduleSchema().dump(s)).next(2) == s.next(2)


# -- properties ----------------------------------------------------------------------------

ZONES = st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"])
MOMENTS = st.datetimes(min_value=D(2000, 1, 1), max_value=D(2040, 1, 1)).map(lambda d: d.replace(tzinfo=UTC))


@settings(max_examples=60, deadline=None)
@given(
    interval=st.integers(min_value=1, max_value=3 * 86400 * 1000).map(lambda ms: datetime.timedelta(milliseconds=ms)),
    zone=ZONES,
    start=MOMENTS,
    after=MOMENTS,
)
def test_interval_events_are_increasing_strictly_after_and_aligned(interval, zone, start, after):
    tz = ZoneInfo(zone)
    clock = clocks.IntervalClock(interval, start_date=start.astimezone(tz))
    events = [e.start_time for e in first(clock.events(after=after), 5)]
    assert len(events) == 5
    assert all(e > after for e in events) and all(a < b for a, b in itertools.pairwise(events))
    assert events[0] >= start
    if interval.days == 0:  # elapsed-time intervals: exact multiples from the start
        assert all((e - start) % interval == datetime.timedelta(0) for e in events)
        assert events[0] - interval <= max(after, start - interval)


@settings(max_examples=40, deadline=None)
@given(
    minute=st.integers(0, 59), hour=st.integers(0, 23), zone=ZONES, after=MOMENTS,
)
def test_daily_cron_fires_at_its_wall_clock_time_once_a_day(minute, hour, zone, after):
    tz = ZoneInfo(zone)
    clock = clocks.CronClock(f"{minute} {hour} * * *", start_date=D(1999, 1, 1, tzinfo=tz))
    events = [e.start_time for e in first(clock.events(after=after), 6)]
    assert all(e > after for e in events) and all(a < b for a, b in itertools.pairwise(events))
    local = [e.astimezone(tz) for e in events]
    assert len({d.date() for d in local}) == len(local)  # never twice on one day
    # on days without a DST change at that hour it is exactly the cron's wall-clock time
    exact = [d for d in local if d.utcoffset() == (d - datetime.timedelta(hours=3)).utcoffset() == (d + datetime.timedelta(hours=3)).utcoffset()]
    assert all((d.hour, d.minute) == (hour, minute) for d in exact)


def _field(low: int, high: int):
    value = st.integers(low, high)
    return st.one_of(
        st.just("*"),
        value.map(str),
        st.integers(2, max(2, (high - low) // 2)).map(lambda n: f"*/{n}"),
        st.tuples(value, value).map(lambda ab: f"{min(ab)}-{max(ab)}"),
        st.lists(value, min_size=2, max_size=3, unique=True).map(lambda v: ",".join(map(str, v))),
    )


@settings(max_examples=40, deadline=None)
@given(
    minute=_field(0, 59), hour=_field(0, 23), dom=_field(1, 28), month=_field(1, 12), dow=_field(0, 6),
    day_or=st.booleans(), after=st.datetimes(min_value=D(2000, 1, 1), max_value=D(2040, 1, 1)),
)
def test_plain_cron_walk_matches_croniter(minute, hour, dom, month, dow, day_or, after):
    from croniter import croniter

    expr = f"{minute} {hour} {dom} {month} {dow}"
    fields = cron_impl._plain_fields(croniter.expand(expr))
    assert fields is not None
    reference = croniter(expr, after, day_or=day_or)
    horizon = after + datetime.timedelta(days=3 * 366)
    expected = list(itertools.takewhile(lambda t: t < horizon, (reference.get_next(datetime.datetime) for _ in range(8))))
    ours = list(itertools.takewhile(lambda t: t < horizon, first(cron_impl._walk_fields(fields, day_or, after), 8)))
    assert ours == expected


def test_cron_extensions_are_walked_by_croniter():
    start = D(2030, 1, 1, tzinfo=UTC)
    assert clocks.CronClock("0 0 L * *")._fields is None
    assert first(clocks.CronClock("0 0 L * *", start_date=start).events(), 2) == [D(2030, 1, 31, tzinfo=UTC), D(2030, 2, 28, tzinfo=UTC)]
    assert first(clocks.CronClock("0 0 * * 5#2", start_date=start).events(), 1) == [D(2030, 1, 11, tzinfo=UTC)]
    assert first(clocks.CronClock("0 0 31 2 *", start_date=start).events(), 1) == []  # never
