"""Classic ``prefect.executors.dask``."""

from prefect_storage.core.executors import DaskExecutor, LocalDaskExecutor

__all__ = ["DaskExecutor", "LocalDaskExecutor"]
