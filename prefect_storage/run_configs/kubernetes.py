"""Classic ``prefect.run_configs.kubernetes``."""

from prefect_storage.core.run_config import KubernetesRun

__all__ = ["KubernetesRun"]
