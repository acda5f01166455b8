"""Classic ``prefect.run_configs.local``."""

from prefect_storage.core.run_config import LocalRun

__all__ = ["LocalRun"]
