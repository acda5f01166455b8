"""``SQLiteQuery`` and ``SQLiteScript``: run SQL against a SQLite database file."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

from prefect_storage.core.task import Task
from prefect_storage.core.utilities import defaults_from_attrs

__all__ = ["SQLiteQuery", "SQLiteScript"]


class SQLiteQuery(Task):
    """Run one SQL statement against the SQLite database ``db`` and return its rows.

    Args:
        db: path of the database file (``":memory:"`` for a throw-away one).
        query: one SQL statement; ``?`` placeholders take their values from ``data``.
        data: the values for the placeholders, as a tuple.
        **kwargs: the standard :class:`Task` arguments.

    Each argument can also be given to ``run``, which takes precedence. Unlike the
    classic task, a statement that changes data (``INSERT``, ``UPDATE``, ...) is
    committed before the connection closes, so its change is kept.
    """

    def __init__(self, db: str | None = None, query: str | None = None, data: tuple[Any, ...] = (), **kwargs: Any) -> None:
        self.db = db
        self.query = query
        self.data = data
        super().__init__(**kwargs)

    @defaults_from_attrs("db", "query", "data")
    def run(self, db: str | None = None, query: str | None = None, data: tuple[Any, ...] = ()) -> list[Any]:  # type: ignore[override]
        """The rows the statement returns (``[]`` for one that returns none)."""
        if db is None:
            raise ValueError("The db must be specified")
        if query is None:
            raise ValueError("The query string must be specified")
        if "?" in query and not data:
            raise ValueError("The data inputs must be specified as a tuple if query contains parametrized values '?'")
        with closing(sqlite3.connect(db)) as connection, closing(connection.cursor()) as cursor:
            cursor.execute(query, data)
            rows = cursor.fetchall()
            connection.commit()
        return rows


class SQLiteScript(Task):
    """Run a SQL script (several statements) against the SQLite database ``db``; returns
    nothing. Useful to create tables and load rows.

    Args:
        db: path of the database file.
        script: the SQL script.
        **kwargs: the standard :class:`Task` arguments.
    """

    def __init__(self, db: str | None = None, script: str | None = None, **kwargs: Any) -> None:
        self.db = db
        self.script = script
        super().__init__(**kwargs)

    @defaults_from_attrs("db", "script")
    def run(self, db: str | None = None, script: str | None = None) -> None:  # type: ignore[override]
        """Run the script; its statements are committed."""
        if db is None:
            raise ValueError("The db must be specified")
        if script is None:
            raise ValueError("The query script string must be specified")
        with closing(sqlite3.connect(db)) as connection, closing(connection.cursor()) as cursor:
            cursor.executescript(script)
            connection.commit()
