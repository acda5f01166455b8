"""Classic ``prefect.schedules.schedules``."""

from prefect_storage.core.schedules.schedules import CronSchedule, IntervalSchedule, RRuleSchedule, Schedule

__all__ = ["CronSchedule", "IntervalSchedule", "RRuleSchedule", "Schedule"]
