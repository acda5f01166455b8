"""Files on the local disk: atomic writes and reads with clear errors.

Permissions: a file is written no wider than the folder it is written to (a flow
pickle is code), so a ``0700`` folder gives ``0600`` files and a group-readable
``0750`` folder, chosen on purpose to share flows with an agent of the same group,
gives ``0640`` files.

Temporary files are named ``.tmp-<host>-<pid>-<random>.part``. A writer killed with
``kill -9`` leaves one behind; the next write to the same folder removes those of
dead writers on this host, and any older than :data:`STALE_AFTER` seconds.
"""

from __future__ import annotations

import contextlib
import os
import stat
import time

from prefect_storage.exceptions import FlowNotFoundError, FlowStorageError, FlowWriteError

__all__ = ["STALE_AFTER", "atomic_write", "hostname", "read_bytes"]

#: age (seconds) after which any temporary file in a storage folder counts as abandoned
STALE_AFTER = 3600.0
_PREFIX, _SUFFIX = ".tmp-", ".part"


def atomic_write(path: str | os.PathLike[str], data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one.

    The bytes go to a temporary file in the same folder, are flushed to disk, and the
    file is renamed over ``path``. On any failure the temporary file is removed. The
    file's mode is ``mode`` when given, else the folder's read/write bits. An error
    of the operating system (full disk, permissions) is a :class:`FlowWriteError`.
    """
    import tempfile

    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    try:
        os.makedirs(folder, exist_ok=True)
        _remove_stale_temporaries(folder)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{_PREFIX}{hostname()}-{os.getpid()}-", suffix=_SUFFIX)
    except OSError as exc:
        raise FlowWriteError(exc.errno, f"Cannot write {path}: {exc.strerror or exc}.") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode if mode is not None else stat.S_IMODE(os.stat(folder).st_mode) & 0o666)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, FlowStorageError):
            raise FlowWriteError(exc.errno, f"Cannot write {path}: {exc.strerror or exc}.") from None
        raise


def hostname() -> str:
    """This machine's host name, as ``socket.gethostname()`` gives it.

    Read from ``os.uname()`` where there is one: importing ``socket`` would add ~5 ms
    to every cold flow load, which needs no network.
    """
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


def _remove_stale_temporaries(folder: str) -> None:
    host = hostname()
    now = time.time()
    try:
        names = [n for n in os.listdir(folder) if n.startswith(_PREFIX) and n.endswith(_SUFFIX)]
    except OSError:
        return
    for name in names:
        full = os.path.join(folder, name)
        try:
            if _writer_is_dead(name[len(_PREFIX) :], host) or now - os.stat(full).st_mtime > STALE_AFTER:
                os.unlink(full)
        except OSError:  # gone already, or not ours to remove
            continue


def _writer_is_dead(rest: str, host: str) -> bool:
    """Whether ``<host>-<pid>-...`` names a process of this host that no longer runs."""
    if not rest.startswith(host + "-"):
        return False
    pid_text = rest[len(host) + 1 :].partition("-")[0]
    if not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def read_bytes(path: str | os.PathLike[str], what: str = "Flow") -> bytes:
    """Read ``path``; a missing or unreadable file is a :class:`FlowStorageError` naming it."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise FlowNotFoundError(f"{what} file not found: {path}") from None
    except IsADirectoryError:
        raise FlowStorageError(f"{what} location {path} is a directory, not a file.") from None
    except PermissionError:
        raise FlowStorageError(f"{what} file {path} cannot be read: permission denied.") from None
    except OSError as exc:
        raise FlowStorageError(f"{what} file {path} cannot be read: {exc.strerror or exc}.") from None
