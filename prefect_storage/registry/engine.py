"""Where the registry lives (its URL) and how to connect to it.

``sqlite:///<home>/prefect_storage.db`` by default; ``PREFECT_STORAGE_REGISTRY_URL``
(or the CLI's ``--registry``) points elsewhere, e.g. ``postgresql://user@host/db`` for
agents on several machines (``pip install 'prefect-storage[postgres]'``).
"""

from __future__ import annotations

import os

import sqlalchemy as sa

from prefect_storage import config
from prefect_storage.exceptions import StorageConfigError

REGISTRY_URL_ENV = config.REGISTRY_URL_ENV


def registry_url(url: str | None = None) -> str:
    """The registry URL to use: ``url``, else ``$PREFECT_STORAGE_REGISTRY_URL``, else SQLite in the home folder."""
    url = url or config.registry_url()
    if url:
        return normalize_url(url)
    return f"sqlite:///{config.home_path() / 'prefect_storage.db'}"


def normalize_url(url: str) -> str:
    """A database URL as given; a plain path (absolute, relative or ``~``) means SQLite there."""
    if "://" in url:
        return url
    return f"sqlite:///{os.path.abspath(os.path.expanduser(url))}"


def public_url(url: str) -> str:
    """``url`` with any password hidden, for messages (``postgresql://alice:***@host/db``)."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        import re

        return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", url)


def create_engine(url: str) -> sa.Engine:
    """An engine for ``url``: SQLite with WAL and serialized writers, or PostgreSQL through psycopg 3."""
    url = normalize_url(url)
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise StorageConfigError(
            f"Registry URL {public_url(url)!r} is not a database URL; use sqlite:///path/to/file.db or postgresql://user@host/db."
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        from prefect_storage.backends.optional import require

        require("psycopg", "postgres", purpose="a PostgreSQL registry")
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=5)
    raise StorageConfigError(f"Unsupported registry database {backend!r} in {parsed!r}; use sqlite or postgresql.")


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        path = os.path.abspath(url.database)
        if os.path.dirname(path) == os.path.abspath(config.home_path()):
            config.ensure_home_dir()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.exists(path):
            # Created private: the registry holds run parameters, logs and storage settings.
            # SQLite gives its -wal and -shm files the database file's mode.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL never corrupts the database; a commit is synced at the next
        # checkpoint instead of at once (an OS crash may lose the last commits, a process
        # crash loses nothing). Prefect's own SQLite server database makes the same choice.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        # IMMEDIATE takes the write lock up front (waiting up to busy_timeout), so two
        # agents can never both read a run as Scheduled and then collide on the write.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
