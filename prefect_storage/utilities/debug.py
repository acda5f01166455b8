"""Classic ``prefect.utilities.debug``: ``raise_on_exception``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from prefect_storage.context import context

__all__ = ["raise_on_exception"]


@contextlib.contextmanager
def raise_on_exception() -> Iterator[None]:
    """Inside the block, an error in a task is raised out of ``flow.run()`` instead of
    becoming a ``Failed`` state (for debugging with ``pdb``)."""
    with context(raise_on_exception=True):
        yield
