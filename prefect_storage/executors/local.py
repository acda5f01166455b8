"""Classic ``prefect.executors.local``."""

from prefect_storage.core.executors.local import LocalExecutor

__all__ = ["LocalExecutor"]
