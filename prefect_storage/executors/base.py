"""Classic ``prefect.executors.base``."""

from prefect_storage.core.executors import Executor

__all__ = ["Executor"]
