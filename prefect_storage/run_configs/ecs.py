"""Classic ``prefect.run_configs.ecs``."""

from prefect_storage.core.run_config import ECSRun

__all__ = ["ECSRun"]
