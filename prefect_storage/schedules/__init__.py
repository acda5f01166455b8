"""Classic ``prefect.schedules`` (implemented in :mod:`prefect_storage.core.schedules`)."""

from prefect_storage.schedules import adjustments, clocks, filters, schedules
from prefect_storage.schedules.schedules import CronSchedule, IntervalSchedule, RRuleSchedule, Schedule

__all__ = [
    "CronSchedule",
    "IntervalSchedule",
    "RRuleSchedule",
    "Schedule",
    "adjustments",
    "clocks",
    "filters",
    "schedules",
]
