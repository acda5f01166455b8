"""Classic ``prefect.executors`` (implemented in :mod:`prefect_storage.core.executors`)."""

from prefect_storage.executors.base import Executor
from prefect_storage.executors.dask import DaskExecutor, LocalDaskExecutor
from prefect_storage.executors.local import LocalExecutor

__all__ = ["DaskExecutor", "Executor", "LocalDaskExecutor", "LocalExecutor"]
