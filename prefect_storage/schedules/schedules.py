"""Classic import path ``prefect.schedules.schedules``: re-exports :mod:`prefect_storage.core.schedules.schedules`."""

from prefect_storage.core.schedules.schedules import *  # noqa: F403
