"""Every error type ``prefect_storage`` raises on purpose.

Each class also subclasses the builtin a caller would catch for that kind of
problem, so classic code that catches ``ValueError`` or ``ImportError`` keeps
working::

    StorageError(Exception)                    base: the message is always redacted
    ├── FlowStorageError                       a flow could not be stored or loaded (classic name)
    │   ├── FlowIntegrityError(ValueError)     truncated, tampered, unsigned or wrongly signed data
    │   ├── FlowDeserializationError           the payload is intact but cannot be unpickled here
    │   ├── FlowNotFoundError(FileNotFoundError)
    │   │                                      nothing at the flow's location (file, key, blob, ref)
    │   └── BucketNotFoundError(FileNotFoundError)
    │                                          the bucket or container itself does not exist
    ├── FlowNameConflictError(ValueError)      a flow of that name is already in the storage
    ├── UnknownFlowError(ValueError)           ``get_flow`` of a name the storage does not hold
    ├── StorageConfigError(ValueError)         bad constructor arguments or settings
    ├── StorageAuthError(PermissionError)      the service refused the credentials
    ├── BackendUnavailableError(ConnectionError)
    │                                          the service could not be reached (after retries)
    ├── BackendNotInstalledError(ImportError)  an optional SDK is missing; names the pip extra
    └── SecretNotFoundError(KeyError, ValueError)
                                               a ``$NAME`` template or secret name has no value
                                               (ValueError too: the classic API raised that)

The message of every one of these passes through :func:`prefect_storage.secrets.redact`
when the exception is created, so a secret value that was resolved in this process
never reaches a log or a traceback through them.
"""

from __future__ import annotations

__all__ = [
    "BackendNotInstalledError",
    "BackendUnavailableError",
    "BlockEncryptionKeyError",
    "BlockNotFoundError",
    "BlockNotSavedError",
    "BlockValidationError",
    "BucketNotFoundError",
    "FlowDeserializationError",
    "FlowIntegrityError",
    "FlowNameConflictError",
    "FlowNotFoundError",
    "FlowStorageError",
    "NoSourceError",
    "SecretNotFoundError",
    "StorageAuthError",
    "StorageConfigError",
    "StorageError",
    "UnknownFlowError",
    "UnknownSchemeError",
]


class StorageError(Exception):
    """Base class of every error raised by ``prefect_storage``."""

    def __init__(self, *args: object) -> None:
        from prefect_storage.secrets import redact

        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))

    def __str__(self) -> str:
        # KeyError-derived classes would otherwise show the message in quotes.
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class FlowStorageError(StorageError):
    """A flow could not be stored or loaded (the classic Prefect 1.x name)."""


class FlowIntegrityError(FlowStorageError, ValueError):
    """Stored flow data is truncated, altered, unsigned when a signature is required,
    or signed with another key. Raised before anything is unpickled."""


class FlowDeserializationError(FlowStorageError):
    """The stored data is intact but cannot be turned back into a flow here
    (Python version mismatch, a missing module, an unpickling error)."""


class FlowNotFoundError(FlowStorageError, FileNotFoundError):
    """Nothing exists at the location a storage recorded for a flow."""


class BucketNotFoundError(FlowStorageError, FileNotFoundError):
    """The bucket or container a storage or result names does not exist (not just the object)."""


class FlowNameConflictError(StorageError, ValueError):
    """A flow with the same name was already added to this storage."""


class UnknownFlowError(StorageError, ValueError):
    """``get_flow`` was asked for a flow name the storage does not hold."""


class StorageConfigError(StorageError, ValueError):
    """A storage, result or setting was configured with values that cannot work."""


class StorageAuthError(StorageError, PermissionError):
    """The service refused the credentials; the message says which source was used."""


class BackendUnavailableError(StorageError, ConnectionError):
    """The service could not be reached, even after retrying."""


class BackendNotInstalledError(StorageError, ImportError):
    """An optional SDK is not installed; the message names the extra to install."""


class SecretNotFoundError(StorageError, KeyError, ValueError):
    """A secret name (or ``$NAME`` template) has no value in any configured place."""


# ---------------------------------------------------------------------------- engine


class PrefectSignal(BaseException):
    """Base of the engine's control signals (classic ``prefect.exceptions.PrefectSignal``).

    A ``BaseException`` on purpose: ``except Exception`` in task code must not swallow
    ``FAIL``, ``SKIP``, ``LOOP`` or a timeout.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class TaskTimeoutSignal(PrefectSignal):
    """Raised inside a task that ran longer than its ``timeout``."""


class VersionLockMismatchSignal(PrefectSignal):
    """A backend refused a state change (kept for classic imports)."""


class PrefectException(Exception):
    """Base of classic Prefect errors (kept for classic imports)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)


class EngineFeatureNotSupportedError(PrefectException, RuntimeError):
    """A classic engine feature that needs the hosted backend (e.g. manual approval)."""


# --- executors (dask helper) -------------------------------------------------------------


class ExecutorConfigError(StorageError, ValueError):
    """An executor was given arguments that cannot work (the message says which and why)."""


class ExecutorNotStartedError(StorageError, RuntimeError):
    """Work was submitted to an executor outside its ``start()`` block."""


# -- runner storage and blocks (issue 13) --------------------------------------------------


class UnknownSchemeError(StorageConfigError):
    """A URL's scheme is not in the scheme map; the message lists the known schemes."""


class NoSourceError(StorageConfigError):
    """A storage holds no source code to pull (a pickled flow): it has no pull step."""


class BlockNotFoundError(StorageError, KeyError, ValueError):
    """No block document of that type and name is saved in the registry."""


class BlockNotSavedError(StorageError, ValueError):
    """A block must be saved (``block.save(name)``) before it can be referenced."""


class BlockValidationError(StorageConfigError):
    """A block was given a field it does not have, or lacks a required one."""


class BlockEncryptionKeyError(StorageError, PermissionError):
    """The key that encrypts block secret fields is missing, malformed or not the one they were saved with."""
