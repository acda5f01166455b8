"""Classic schedules: clocks emit candidate run times, filters keep some, adjustments move them.

Public path: :mod:`prefect_storage.schedules` (classic ``prefect.schedules``).
"""

from prefect_storage.core.schedules import adjustments, clocks, filters, schedules
from prefect_storage.core.schedules.schedules import CronSchedule, IntervalSchedule, RRuleSchedule, Schedule

__all__ = ["CronSchedule", "IntervalSchedule", "RRuleSchedule", "Schedule", "adjustments", "clocks", "filters", "schedules"]
