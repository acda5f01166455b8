"""Classic ``prefect.engine``: the runners and the default-class helpers.

The runners live in :mod:`prefect_storage.core`; this package holds the classic
module paths (``engine.state``, ``engine.signals``, ``engine.results``, ...).
The defaults come from the classic settings ``PREFECT__ENGINE__EXECUTOR__DEFAULT_CLASS``,
``PREFECT__ENGINE__FLOW_RUNNER__DEFAULT_CLASS`` and ``PREFECT__ENGINE__TASK_RUNNER__DEFAULT_CLASS``.
"""

from __future__ import annotations

import importlib
import os
import warnings
from typing import Any

from prefect_storage.core.flow_runner import FlowRunner
from prefect_storage.core.task_runner import TaskRunner

__all__ = [
    "FlowRunner",
    "TaskRunner",
    "get_default_executor_class",
    "get_default_flow_runner_class",
    "get_default_task_runner_class",
]


def _resolve(variable: str, fallback: type) -> Any:
    value = os.environ.get(variable)
    if not value:
        return fallback
    module, _, name = value.replace("prefect.", "prefect_storage.", 1).rpartition(".")
    if value.startswith("prefect_storage."):
        module, _, name = value.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        warnings.warn(f"Could not import {value}; using {fallback.__module__}.{fallback.__qualname__} instead.", stacklevel=3)
        return fallback


def get_default_executor_class() -> type:
    """The executor class ``flow.run()`` uses when the flow has none (``LocalExecutor``)."""
    from prefect_storage.core.executors import LocalExecutor

    return _resolve("PREFECT__ENGINE__EXECUTOR__DEFAULT_CLASS", LocalExecutor)  # type: ignore[no-any-return]


def get_default_flow_runner_class() -> type:
    """The flow runner class ``flow.run()`` uses (``FlowRunner``)."""
    return _resolve("PREFECT__ENGINE__FLOW_RUNNER__DEFAULT_CLASS", FlowRunner)  # type: ignore[no-any-return]


def get_default_task_runner_class() -> type:
    """The task runner class the flow runner uses (``TaskRunner``)."""
    return _resolve("PREFECT__ENGINE__TASK_RUNNER__DEFAULT_CLASS", TaskRunner)  # type: ignore[no-any-return]
