"""A size-bounded on-disk cache of downloaded payloads, validated by ETag/generation.

Remote storages keep the bytes of each flow they download together with the
service's validator (an S3 ETag, a GCS generation, a git commit id). The next load
asks the service only whether the validator still holds (a conditional request)
and, when it does, reads the bytes from here: one round trip, no payload.

The cache lives in ``<home>/cache/<namespace>/`` (``PREFECT_STORAGE_CACHE_DIR``
overrides the root), one file per key, written atomically. When the total size
passes ``PREFECT_STORAGE_CACHE_MAX_BYTES`` (default 512 MiB) the least recently
used entries are removed. Entries never hold credentials: keys are built from
locations with credentials stripped, and even so only a hash of the key is written
to disk. Integrity is still checked on every load, by the envelope digest, before
anything is unpickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from prefect_storage import config
from prefect_storage.backends.local import atomic_write

DEFAULT_MAX_BYTES = 512 * 1024 * 1024


def cache_root() -> Path:
    return config.cache_dir() or config.ensure_home_dir() / "cache"


class PayloadCache:
    """Cache of ``key -> (validator, bytes)`` in one namespace (e.g. ``"s3"``)."""

    def __init__(self, namespace: str, max_bytes: int | None = None) -> None:
        self.folder = cache_root() / namespace
        self.max_bytes = max_bytes if max_bytes is not None else config.cache_max_bytes(DEFAULT_MAX_BYTES)

    def _path(self, key: str) -> Path:
        return self.folder / hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> tuple[str, bytes] | None:
        """The cached ``(validator, data)`` for ``key``, or ``None``."""
        path = self._path(key)
        try:
            with open(path, "rb") as fh:
                header = json.loads(fh.readline())
                size = int(header["size"])
                # read(size) fills one buffer of the right size; read() grows one (10x slower at 5 MB)
                data = fh.read(size)
                trailing = fh.read(1)
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None
        if len(data) != size or trailing:
            return None  # a damaged entry: treat as a miss
        with contextlib.suppress(OSError):
            os.utime(path)  # mark as recently used
        return str(header["validator"]), data

    def put(self, key: str, validator: str, data: bytes) -> None:
        """Store ``data`` for ``key`` under ``validator``; evict old entries past the limit."""
        if len(data) > self.max_bytes:
            return
        # The key itself is not written: the file name is its sha256, and a key may name
        # an endpoint whose URL a user filled with credentials.
        header = json.dumps({"validator": validator, "size": len(data)}).encode() + b"\n"
        atomic_write(self._path(key), header + data, mode=0o600)
        self._evict()

    def discard(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(key))

    def _evict(self) -> None:
        try:
            entries = [(e.stat().st_mtime, e.stat().st_size, e.path) for e in os.scandir(self.folder) if e.is_file()]
        except FileNotFoundError:
            return
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            total -= size
