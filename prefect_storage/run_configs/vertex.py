"""Classic ``prefect.run_configs.vertex``."""

from prefect_storage.core.run_config import VertexRun

__all__ = ["VertexRun"]
