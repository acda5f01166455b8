"""Classic import path ``prefect.schedules.adjustments``: re-exports :mod:`prefect_storage.core.schedules.adjustments`."""

from prefect_storage.core.schedules.adjustments import *  # noqa: F403
