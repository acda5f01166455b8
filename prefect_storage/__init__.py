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

from prefect_storage._version import __version__
from prefect_storage.core import (
    DockerRun,
    Flow,
    LocalRun,
    Parameter,
    Task,
    UniversalRun,
    context,
    task,
)
from prefect_storage.core.modern_flow import flow

__all__ = [
    "DockerRun",
    "Flow",
    "LocalRun",
    "Parameter",
    "Task",
    "UniversalRun",
    "__version__",
    "context",
    "flow",
    "task",
]
