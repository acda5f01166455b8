"""Executors run the flow's tasks (classic ``prefect.executors``). ``LocalExecutor``
(the default) runs them one by one in this thread; the Dask executors live in
:mod:`prefect_storage.core.executors.dask` and are imported on first use."""

from typing import Any

from prefect_storage.core.executors.base import Executor
from prefect_storage.core.executors.local import LocalExecutor

__all__ = ["DaskExecutor", "Executor", "LocalDaskExecutor", "LocalExecutor"]


def __getattr__(name: str) -> Any:
    if name in ("DaskExecutor", "LocalDaskExecutor"):
        from prefect_storage.core.executors import dask

        return getattr(dask, name)
    raise AttributeError(name)
