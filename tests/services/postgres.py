"""A private PostgreSQL cluster for the registry tests, and the ``registry_url`` fixture
that runs a test once on SQLite and once on PostgreSQL.

Debian's server (``scripts/setup.d/10-postgres.sh``) is started from
``/usr/lib/postgresql/*/bin`` in a temp dir on a free loopback port, with trust auth
and durability off (it is thrown away). As root it runs as the ``postgres`` user,
which owns the data directory. Each test gets its own database.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services._process import ServiceProcess, free_port, port_open


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _as_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    """``postgresql://postgres@127.0.0.1:<port>`` of a running private cluster, or
    None (with the reason in the fixture's skip) when PostgreSQL is not installed."""
    bin_dir = _bin_dir()
    if bin_dir is None or (os.geteuid() == 0 and not _has_user("postgres")):
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="prefect-storage-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (root, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    subprocess.run(
        _as_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]),
        check=True, capture_output=True, timeout=120,
    )
    port = free_port()
    server = ServiceProcess(
        "postgres",
        _as_user([
            str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(sockets),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=200",
        ]),
        root / "postgres.log",
    ).start()
    url = f"postgresql://postgres@127.0.0.1:{port}"
    try:
        server.wait_until(lambda: port_open(port) and _connectable(url + "/postgres"), timeout=60)
        yield url
    finally:
        with contextlib.suppress(Exception):
            subprocess.run(_as_user([str(bin_dir / "pg_ctl"), "stop", "-D", str(data), "-m", "immediate"]),
                           capture_output=True, timeout=30)
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _connectable(url: str) -> bool:
    import psycopg

    with psycopg.connect(url, connect_timeout=2):
        return True


def create_database(server_url: str) -> str:
    """A new empty database on the cluster; returns its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty registry: SQLite in the test's temp dir, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    server = request.getfixturevalue("postgres_server")
    from tests.conftest import require_service

    require_service(server is not None, "PostgreSQL is not installed (scripts/setup.d/10-postgres.sh installs it)")
    return create_database(server)
