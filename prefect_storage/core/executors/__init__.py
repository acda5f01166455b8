"""Executors: where the flow runner runs tasks (``LocalExecutor`` by default; Dask ones lazily)."""

from __future__ import annotations

from typing import Any

from prefect_storage.core.executors.base import Executor, LocalExecutor

__all__ = ["DaskExecutor", "Executor", "LocalDaskExecutor", "LocalExecutor"]


def __getattr__(name: str) -> Any:
    # The Dask executors' module imports nothing heavy, but keep it off the import path anyway.
    if name in ("DaskExecutor", "LocalDaskExecutor"):
        from prefect_storage.core.executors import dask

        return getattr(dask, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
