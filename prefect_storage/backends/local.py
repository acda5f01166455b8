"""Files on the local disk: atomic writes and reads with clear errors."""

from __future__ import annotations

import contextlib
import os

from prefect_storage.exceptions import FlowNotFoundError, FlowStorageError


def atomic_write(path: str | os.PathLike[str], data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one.

    The bytes go to a temporary file in the same folder, are flushed to disk, and the
    file is renamed over ``path``. On any failure the temporary file is removed.
    """
    import tempfile

    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


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
