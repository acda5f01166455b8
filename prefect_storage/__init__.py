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

from prefect_storage import _not_provided
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

__all__ = [
    "DockerRun",
    "Flow",
    "LocalRun",
    "Parameter",
    "Task",
    "UniversalRun",
    "__version__",
    "context",
    "task",
]

# Classic modules that are not provided fail with a message saying so (see docs/migrating.md).
_not_provided.install()


def __getattr__(name: str) -> object:
    if name == "Client":  # classic top-level name of the hosted-backend API client
        raise _not_provided.missing_name(__name__, name, "the Prefect Server/Cloud API client")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
