"""Classic exception names (``prefect.exceptions``, formerly ``prefect.utilities.exceptions``)."""

from prefect_storage.exceptions import (
    FlowStorageError,
    PrefectException,
    PrefectSignal,
    TaskTimeoutSignal,
    VersionLockMismatchSignal,
)

__all__ = ["FlowStorageError", "PrefectException", "PrefectSignal", "TaskTimeoutSignal", "VersionLockMismatchSignal"]
