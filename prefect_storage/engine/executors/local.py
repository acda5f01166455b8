"""Old classic path ``prefect.engine.executors.local``: warns, then is the real ``LocalExecutor``."""

from prefect_storage.engine.executors._moved import MovedMixin
from prefect_storage.executors.local import LocalExecutor as _LocalExecutor

__all__ = ["LocalExecutor"]


class LocalExecutor(MovedMixin, _LocalExecutor):
    """Deprecated path of :class:`prefect_storage.executors.LocalExecutor`."""
