"""Classic import path ``prefect.schedules.filters``: re-exports :mod:`prefect_storage.core.schedules.filters`."""

from prefect_storage.core.schedules.filters import *  # noqa: F403
