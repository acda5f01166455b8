"""The executor interface the flow runner talks to (classic ``prefect.executors.base``).

The flow runner calls ``submit(fn, *args, extra_context=..., **kwargs)`` once per task run
(and once per mapped child), passing the *futures* of upstream states inside ``args`` /
``kwargs`` (in dicts and lists): an executor resolves them before calling ``fn``. It
calls ``wait(futures)`` when it needs values (before mapping, and at the end).
``fn``, its arguments and the states it returns are cloudpickle-able, so an executor may
run them in threads, processes or on a cluster.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prefect_storage.log import get_logger

__all__ = ["Executor"]


class Executor:
    """Base class: subclasses implement :meth:`submit` and :meth:`wait`."""

    def __init__(self) -> None:
        self.executor_id = f"{type(self).__name__}-{uuid.uuid4()}"
        self.logger = get_logger(type(self).__name__)

    def __repr__(self) -> str:
        return f"<Executor: {type(self).__name__}>"

    @contextlib.contextmanager
    def start(self) -> Iterator[None]:
        """Set up resources for one flow run (a no-op here)."""
        yield

    def submit(self, fn: Callable[..., Any], *args: Any, extra_context: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` (now or later); return a future of its result.

        ``extra_context`` (``task_name``, ``task_tags``, ``task_index``) helps name the work.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement submit()")  # pragma: no cover

    def submit_many(
        self,
        fn: Callable[..., Any],
        calls: Sequence[tuple[tuple[Any, ...], dict[str, Any]]],
        extra_contexts: Sequence[dict[str, Any] | None] | None = None,
    ) -> list[Any]:
        """Submit ``fn`` once per ``(args, kwargs)`` in ``calls`` (mapped children);
        executors that can batch override this."""
        contexts = extra_contexts or [None] * len(calls)
        return [self.submit(fn, *args, extra_context=ctx, **kwargs) for (args, kwargs), ctx in zip(calls, contexts)]

    def wait(self, futures: Any) -> Any:
        """Resolve ``futures`` (a future, or nested lists/dicts of them) to values."""
        raise NotImplementedError(f"{type(self).__name__} must implement wait()")  # pragma: no cover
