"""Store classic (Prefect 1.x style) flows and load them back where they run.

    from prefect_storage import Flow, task
    from prefect_storage.storage import Local

    @task
    def hello():
        return "hi"

    with Flow("hello", storage=Local()) as flow:
        hello()

The storage classes live in :mod:`prefect_storage.storage`, results in
:mod:`prefect_storage.results`. Importing this package imports no cloud SDK.
"""

from typing import Any

import prefect_storage.context as context  # the module is also the context object
from prefect_storage import _not_provided
from prefect_storage._version import __version__
from prefect_storage.core import (
    DockerRun,
    Flow,
    LocalRun,
    Parameter,
    Task,
    UniversalRun,
    task,
)
from prefect_storage.core.edges import flatten, mapped, unmapped
from prefect_storage.core.utilities import apply_map, tags

__all__ = [
    "DockerRun",
    "Flow",
    "LocalRun",
    "Parameter",
    "Task",
    "UniversalRun",
    "__version__",
    "apply_map",
    "case",
    "context",
    "flatten",
    "flow",
    "mapped",
    "resource_manager",
    "tags",
    "task",
    "unmapped",
]


# classic `import prefect` made these reachable as attributes; here they load on first use
_SUBMODULES = frozenset(
    {
        "agent",
        "artifacts",
        "backend",
        "client",
        "core",
        "engine",
        "executors",
        "results",
        "run_configs",
        "schedules",
        "serialization",
        "serializers",
        "storage",
        "tasks",
        "triggers",
        "utilities",
    }
)


def __getattr__(name: str) -> Any:
    # imported on first use, to keep `import prefect_storage` light
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"prefect_storage.{name}")
    if name == "flow":  # the modern @flow: imported on first use (it needs inspect and friends)
        from prefect_storage.core.modern_flow import flow

        return flow
    if name == "case":
        from prefect_storage.tasks.control_flow.case import case

        return case
    if name == "resource_manager":
        from prefect_storage.tasks.core.resource_manager import resource_manager

        return resource_manager
    if name == "Client":  # classic top-level name of the hosted-backend API client
        raise _not_provided.missing_name(__name__, name, "the Prefect Server/Cloud API client")
    raise AttributeError(f"module 'prefect_storage' has no attribute {name!r}")


# Classic modules that are not provided fail with a message saying so (docs/migrating.md).
_not_provided.install()
