"""Classic ``prefect.run_configs.base``."""

from prefect_storage.core.run_config import RunConfig, UniversalRun

__all__ = ["RunConfig", "UniversalRun"]
