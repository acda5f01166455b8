"""Errors the registry raises on purpose (messages redacted like every StorageError)."""

from __future__ import annotations

# The classes live in prefect_storage.exceptions (one tree); re-exported here.
from prefect_storage.exceptions import NotRegisteredError, RegistryError, SchemaVersionError

__all__ = ["NotRegisteredError", "RegistryError", "SchemaVersionError", "is_transient"]


def is_transient(exc: BaseException) -> bool:
    """True for database errors that waiting may cure: connection refused or lost,
    server restarting, SQLite file busy."""
    import sqlalchemy as sa

    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError))
