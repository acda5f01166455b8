"""The :class:`RunnerStorage` protocol and what every runner storage shares.

A runner storage knows where code lives remotely and pulls it into ``destination``
(``base path / name``) before a run. ``pull_code()`` is a coroutine, as in Prefect;
``pull_code_sync()`` does the same from plain code (scripts, the agent). Both are safe
to call from several threads or processes at once for one destination: each
implementation serialises pulls with a file lock beside the destination.
"""

from __future__ import annotations

import abc
import asyncio
import contextvars
import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["RunnerStorage", "StorageBase", "pull_sync"]


@runtime_checkable
class RunnerStorage(Protocol):
    """A place flow code is pulled from before a run (Prefect 3's protocol, plus a sync pull)."""

    def set_base_path(self, path: Path) -> None:
        """Set the folder under which :attr:`destination` lies."""

    @property
    def pull_interval(self) -> int | None:
        """Seconds between pulls; ``None`` means pull once."""

    @property
    def destination(self) -> Path:
        """Where the code is (or will be) on this machine."""

    async def pull_code(self) -> None:
        """Bring :attr:`destination` up to date."""

    def to_pull_step(self) -> dict[str, Any] | list[dict[str, Any]]:
        """A deployment pull step that recreates this storage (secrets as references only)."""


class StorageBase(abc.ABC):
    """Shared plumbing: base path, pull interval, and the async/sync pull pair."""

    def __init__(self, pull_interval: int | None) -> None:
        self._storage_base_path = Path.cwd()
        self._pull_interval = pull_interval

    def set_base_path(self, path: Path) -> None:
        """Set the folder under which :attr:`destination` lies."""
        self._storage_base_path = Path(path)

    @property
    def pull_interval(self) -> int | None:
        """Seconds between pulls; ``None`` means pull once."""
        return self._pull_interval

    @abc.abstractmethod
    def pull_code_sync(self) -> None:
        """Pull now, from synchronous code."""

    @property
    @abc.abstractmethod
    def destination(self) -> Path:
        """Where the code is (or will be) on this machine."""

    @abc.abstractmethod
    def to_pull_step(self) -> dict[str, Any]:
        """A deployment pull step that recreates this storage (secrets as references only)."""

    async def pull_code(self) -> None:
        """Pull in a worker thread so the event loop keeps running."""
        call = functools.partial(contextvars.copy_context().run, self.pull_code_sync)  # as asyncio.to_thread
        await asyncio.get_running_loop().run_in_executor(_pull_executor(), call)


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pull_executor() -> ThreadPoolExecutor:
    """One pool of pull threads for the process.

    ``asyncio.to_thread`` would use the loop's default executor, which ``asyncio.run``
    creates and joins again on every call: about 2 ms per pull, as much as the rest of
    a repeat pull's own work. Pulls wait on I/O and on file locks, hence many threads.
    """
    global _executor
    if _executor is None:
        with _executor_lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=32, thread_name_prefix="prefect-storage-pull")
    return _executor


def pull_sync(storage: RunnerStorage) -> None:
    """Pull ``storage`` from synchronous code: its ``pull_code_sync()`` when it has one (ours),
    else its coroutine ``pull_code()`` on a fresh event loop (any other RunnerStorage)."""
    sync = getattr(storage, "pull_code_sync", None)
    if callable(sync):
        sync()
        return
    asyncio.run(storage.pull_code())
