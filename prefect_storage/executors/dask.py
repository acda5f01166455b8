"""Classic ``prefect.executors.dask``."""

from prefect_storage.core.executors.dask import DaskExecutor, LocalDaskExecutor

__all__ = ["DaskExecutor", "LocalDaskExecutor"]
