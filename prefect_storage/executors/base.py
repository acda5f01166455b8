"""Classic ``prefect.executors.base``."""

from prefect_storage.core.executors.base import Executor

__all__ = ["Executor"]
