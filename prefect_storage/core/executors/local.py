"""``LocalExecutor``: runs every task in the calling thread, in order (the default)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect_storage.core.executors.base import Executor

__all__ = ["LocalExecutor"]


class LocalExecutor(Executor):
    """Calls each submitted function at once; ``wait`` returns its argument."""

    def submit(self, fn: Callable[..., Any], *args: Any, extra_context: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    def wait(self, futures: Any) -> Any:
        return futures
