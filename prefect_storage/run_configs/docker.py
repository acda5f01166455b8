"""Classic ``prefect.run_configs.docker``."""

from prefect_storage.core.run_config import DockerRun

__all__ = ["DockerRun"]
