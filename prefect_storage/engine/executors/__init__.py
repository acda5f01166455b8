"""The old classic path ``prefect.engine.executors`` (the classes moved to ``prefect_storage.executors``)."""

from prefect_storage.engine.executors.dask import DaskExecutor, LocalDaskExecutor
from prefect_storage.engine.executors.local import LocalExecutor
from prefect_storage.executors.base import Executor

__all__ = ["DaskExecutor", "Executor", "LocalDaskExecutor", "LocalExecutor"]
