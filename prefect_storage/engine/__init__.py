"""Classic ``prefect.engine``: the runners and the default-class helpers.

The runners live in :mod:`prefect_storage.core`; this package holds the classic
module paths (``engine.state``, ``engine.signals``, ``engine.results``, ...).
The defaults come from the classic settings ``engine.executor.default_class`` (etc.) of
:data:`prefect_storage.core.configuration.config`, else ``PREFECT__ENGINE__EXECUTOR__DEFAULT_CLASS``
and friends; a ``prefect.`` name is read as ``prefect_storage.``.
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


def _resolve(dotted: str, variable: str, fallback: type) -> Any:
    """The class named by setting ``dotted`` (then env ``variable``); a class object is
    returned as is; a name that cannot be imported warns and gives ``fallback``."""
    from prefect_storage.core.configuration import config

    value = config.get_nested(dotted) or os.environ.get(variable)
    if not value:
        return fallback
    if not isinstance(value, str):
        return value
    path = "prefect_storage" + value[len("prefect") :] if value.split(".")[0] == "prefect" else value
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        warnings.warn(f"Could not import {value}; using {fallback.__module__}.{fallback.__qualname__} instead.", stacklevel=3)
        return fallback


def get_default_executor_class() -> type:
    """The executor class ``flow.run()`` uses when the flow has none (``LocalExecutor``)."""
    from prefect_storage.core.executors import LocalExecutor

    return _resolve("engine.executor.default_class", "PREFECT__ENGINE__EXECUTOR__DEFAULT_CLASS", LocalExecutor)  # type: ignore[no-any-return]


def get_default_flow_runner_class() -> type:
    """The flow runner class ``flow.run()`` uses (``FlowRunner``)."""
    return _resolve("engine.flow_runner.default_class", "PREFECT__ENGINE__FLOW_RUNNER__DEFAULT_CLASS", FlowRunner)  # type: ignore[no-any-return]


def get_default_task_runner_class() -> type:
    """The task runner class the flow runner uses (``TaskRunner``)."""
    return _resolve("engine.task_runner.default_class", "PREFECT__ENGINE__TASK_RUNNER__DEFAULT_CLASS", TaskRunner)  # type: ignore[no-any-return]


_SUBMODULES = frozenset(
    {
        "cache_validators",
        "executors",
        "flow_runner",
        "result",
        "results",
        "runner",
        "serializers",
        "signals",
        "state",
        "task_runner",
    }
)


def __getattr__(name: str) -> Any:
    # classic `import prefect` made `prefect.engine.state` etc. reachable as attributes
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
