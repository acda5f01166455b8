"""Classic import path ``prefect.schedules``: re-exports :mod:`prefect_storage.core.schedules`."""

from prefect_storage.core.schedules.schedules import CronSchedule, IntervalSchedule, RRuleSchedule, Schedule
from prefect_storage.schedules import adjustments, clocks, filters, schedules

__all__ = ["CronSchedule", "IntervalSchedule", "RRuleSchedule", "Schedule", "adjustments", "clocks", "filters", "schedules"]
