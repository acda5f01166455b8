"""Old classic path ``prefect.engine.executors.dask``: warns, then is the real Dask executor."""

from prefect_storage.engine.executors._moved import MovedMixin
from prefect_storage.executors.dask import DaskExecutor as _DaskExecutor
from prefect_storage.executors.dask import LocalDaskExecutor as _LocalDaskExecutor

__all__ = ["DaskExecutor", "LocalDaskExecutor"]


class DaskExecutor(MovedMixin, _DaskExecutor):
    """Deprecated path of :class:`prefect_storage.executors.DaskExecutor`."""


class LocalDaskExecutor(MovedMixin, _LocalDaskExecutor):
    """Deprecated path of :class:`prefect_storage.executors.LocalDaskExecutor`."""
