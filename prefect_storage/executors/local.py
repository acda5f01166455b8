"""Classic ``prefect.executors.local``."""

from prefect_storage.core.executors import LocalExecutor

__all__ = ["LocalExecutor"]
