"""Classic ``prefect.utilities.logging``: ``get_logger`` (implemented in :mod:`prefect_storage.log`)."""

from __future__ import annotations

import logging as _logging

from prefect_storage.log import get_logger as _get_logger

__all__ = ["get_logger"]


def get_logger(name: str | None = None) -> _logging.Logger:
    """The ``prefect_storage`` logger, or its child ``prefect_storage.<name>`` (redacted records)."""
    return _get_logger(name or "prefect_storage")
