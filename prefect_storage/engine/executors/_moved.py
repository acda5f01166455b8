"""Old-path executor classes: the real ones, warning once per instance that they moved."""

from __future__ import annotations

import warnings
from typing import Any


def warn_moved(cls: type) -> None:
    """Warn that ``prefect_storage.engine.executors.X`` is now ``prefect_storage.executors.X``."""
    warnings.warn(
        f"prefect_storage.engine.executors.{cls.__name__} has been moved to "
        f"`prefect_storage.executors.{cls.__name__}`, please update your imports",
        UserWarning,
        stacklevel=3,
    )


class MovedMixin:
    """Mixed in before the real executor class: warns on construction, behaves identically."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        warn_moved(cls)
        return super().__new__(cls)
