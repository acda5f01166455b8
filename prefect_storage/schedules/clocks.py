"""Classic import path ``prefect.schedules.clocks``: re-exports :mod:`prefect_storage.core.schedules.clocks`."""

from prefect_storage.core.schedules.clocks import *  # noqa: F403
