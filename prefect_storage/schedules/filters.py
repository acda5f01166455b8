"""Classic ``prefect.schedules.filters``."""

from prefect_storage.core.schedules.filters import (
    at_time,
    between_dates,
    between_datetimes,
    between_times,
    is_day_of_week,
    is_month_end,
    is_month_start,
    is_weekday,
    is_weekend,
    on_date,
    on_datetime,
)

__all__ = [
    "at_time",
    "between_dates",
    "between_datetimes",
    "between_times",
    "is_day_of_week",
    "is_month_end",
    "is_month_start",
    "is_weekday",
    "is_weekend",
    "on_date",
    "on_datetime",
]
