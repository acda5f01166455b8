"""The executor interface the flow runner talks to (provisional copy on the dask branch;
the engine branch owns this module and its version wins at merge)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prefect_storage.log import get_logger


class Executor:
    """Runs the functions the flow runner submits; ``start()`` brackets one flow run."""

    def __init__(self) -> None:
        self.logger = get_logger(type(self).__name__)

    def __repr__(self) -> str:
        return f"<Executor: {type(self).__name__}>"

    @contextmanager
    def start(self) -> Iterator[None]:
        yield

    def submit(self, fn: Callable[..., Any], *args: Any, extra_context: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        raise NotImplementedError

    def wait(self, futures: Any) -> Any:
        raise NotImplementedError


class LocalExecutor(Executor):
    """Calls each submitted function at once in the calling thread."""

    def submit(self, fn: Callable[..., Any], *args: Any, extra_context: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    def wait(self, futures: Any) -> Any:
        return futures
