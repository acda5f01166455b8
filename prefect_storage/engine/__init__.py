"""Classic ``prefect.engine``: the runners and the default-class helpers.

The runners live in :mod:`prefect_storage.core`; this package holds the classic
module paths (``engine.state``, ``engine.signals``, ``engine.results``, ...).
The defaults come from the classic settings ``engine.executor.default_class`` (etc.) of
:data:`prefect_storage.core.configuration.config`, else ``PREFECT__ENGINE__EXECUTOR__DEFAULT_CLASS``
and friends; a ``prefect.`` name is read as ``prefect_storage.``.
"""

from __future__ import annotations

import importlib
from typing import Any

from prefect_storage.core.flow_runner import FlowRunner, default_flow_runner_class, default_task_runner_class
from prefect_storage.core.task_runner import TaskRunner

__all__ = [
    "FlowRunner",
    "TaskRunner",
    "get_default_executor_class",
    "get_default_flow_runner_class",
    "get_default_task_runner_class",
]


def get_default_executor_class() -> type:
    """The executor class ``flow.run()`` uses when the flow has none (``LocalExecutor``)."""
    from prefect_storage.core.flow_runner import _default_executor_class

    return _default_executor_class()


def get_default_flow_runner_class() -> type:
    """The flow runner class ``flow.run()`` uses (``FlowRunner``)."""
    return default_flow_runner_class()


def get_default_task_runner_class() -> type:
    """The task runner class the flow runner uses (``TaskRunner``)."""
    return default_task_runner_class()


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
