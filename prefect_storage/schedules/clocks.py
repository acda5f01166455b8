"""Classic ``prefect.schedules.clocks``."""

from prefect_storage.core.schedules.clocks import Clock, ClockEvent, CronClock, DatesClock, IntervalClock, RRuleClock

__all__ = ["Clock", "ClockEvent", "CronClock", "DatesClock", "IntervalClock", "RRuleClock"]
