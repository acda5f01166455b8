"""Classic exception names (``prefect.exceptions``, formerly ``prefect.utilities.exceptions``)."""

from prefect_storage.exceptions import (
    AuthorizationError,
    ClientError,
    FlowStorageError,
    ObjectNotFoundError,
    PrefectException,
    PrefectSignal,
    TaskTimeoutSignal,
    VersionLockMismatchSignal,
)

__all__ = [
    "AuthorizationError",
    "ClientError",
    "FlowStorageError",
    "ObjectNotFoundError",
    "PrefectException",
    "PrefectSignal",
    "TaskTimeoutSignal",
    "VersionLockMismatchSignal",
]
