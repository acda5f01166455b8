"""``UniversalRun`` (classic ``prefect.run_configs.base.UniversalRun``)."""

from prefect_storage.core.run_config import UniversalRun

__all__ = ["UniversalRun"]
