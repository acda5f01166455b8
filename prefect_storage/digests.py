"""SHA-256 without paying for OpenSSL on a cold start.

``import hashlib`` loads OpenSSL's libcrypto, about 5 ms on a cold process that
only needs to check a 20 KB flow file. CPython also ships its own SHA-256 (about
7x slower per byte than OpenSSL's, and identical in output), which costs nothing
to import. :func:`sha256` hands out the built-in one until it has been given
256 KiB in this process (the point where importing ``hashlib`` would have been
cheaper), and ``hashlib``'s from then on, or as soon as something else has
imported ``hashlib``. A warm process that loads flows again and again therefore
hashes at OpenSSL's speed.

A ground-floor module: it imports nothing of the package.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["SMALL_INPUT", "sha256", "sha256_hex"]

# Up to this many bytes, hashing with the built-in costs less than importing hashlib.
SMALL_INPUT = 256 * 1024

_builtin_bytes = 0  # given to the built-in so far (a race only moves the switch a little)


def _builtin() -> Any:
    try:
        if sys.version_info >= (3, 12):
            from _sha2 import sha256 as builtin
        else:
            from _sha256 import sha256 as builtin
    except ImportError:  # a Python built without its own hash modules
        return None
    return builtin


_BUILTIN = _builtin()


def sha256(data: bytes | bytearray | memoryview = b"", *, expected_size: int | None = None) -> Any:
    """A ``hashlib.sha256``-compatible object, fed ``data``.

    ``expected_size`` is how many bytes will be hashed in all (defaults to
    ``len(data)``); it counts toward the built-in's 256 KiB.
    """
    global _builtin_bytes
    size = len(data) if expected_size is None else expected_size
    if _BUILTIN is not None and _builtin_bytes + size < SMALL_INPUT and "hashlib" not in sys.modules:
        _builtin_bytes += size
        return _BUILTIN(data)
    import hashlib

    return hashlib.sha256(data)


def sha256_hex(data: bytes | bytearray | memoryview) -> str:
    """The hex SHA-256 digest of ``data``."""
    return str(sha256(data).hexdigest())
