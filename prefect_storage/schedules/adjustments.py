"""Classic ``prefect.schedules.adjustments``."""

from prefect_storage.core.schedules.adjustments import add, next_weekday

__all__ = ["add", "next_weekday"]
