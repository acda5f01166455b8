"""Errors the registry raises on purpose (messages redacted like every StorageError)."""

from __future__ import annotations

from prefect_storage.exceptions import StorageError


class RegistryError(StorageError):
    """Base class of registry errors."""


class NotRegisteredError(RegistryError, LookupError):
    """No project, flow or flow run matches what was asked for."""


class SchemaVersionError(RegistryError):
    """The database was written by a newer prefect_storage than this one."""


def is_transient(exc: BaseException) -> bool:
    """True for database errors that waiting may cure: connection refused or lost,
    server restarting, SQLite file busy."""
    import sqlalchemy as sa

    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError))
