"""Classic ``prefect.tasks.database``: the SQLite tasks."""

from prefect_storage.tasks.database.sqlite import SQLiteQuery, SQLiteScript

__all__ = ["SQLiteQuery", "SQLiteScript"]
