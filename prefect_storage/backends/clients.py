"""One per-process cache of SDK clients, shared by the AWS, Azure and GCS backends.

SDK clients are thread-safe and costly to make (credential discovery, connection
pools), so each distinct configuration gets one client for the life of the process.
The key never holds a secret in clear (callers hash or describe credentials).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["ClientCache"]

K = TypeVar("K", bound=Hashable)
C = TypeVar("C")


class ClientCache(Generic[K, C]):
    """Clients by key, each made once: a lock-free read, then a double-checked lock so
    two threads asking for a new key at once make one client, not two."""

    def __init__(self) -> None:
        self._clients: dict[K, C] = {}
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], C]) -> C:
        """The client for ``key``, made by ``make()`` the first time it is asked for."""
        cached = self._clients.get(key)
        if cached is not None:
            return cached
        with self._lock:
            if key not in self._clients:
                self._clients[key] = make()
            return self._clients[key]

    def clear(self) -> None:
        """Forget every client (tests, or after credentials were rotated)."""
        with self._lock:
            self._clients.clear()
