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

from __future__ import annotations

# Only the run context (``prefect_storage.context``, which classic code reads right after
# `import prefect`) and its ``config`` load with the package. The public names below load
# on first use (PEP 562), so the agent, the CLI and storage-only code never pay for the
# classic engine, and `import prefect_storage` stays a few milliseconds.
import prefect_storage.context as context  # the module is also the context object
from prefect_storage import _not_provided
from prefect_storage._version import __version__
from prefect_storage.core import configuration as _configuration  # noqa: F401  (puts `config` into the context)

TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers and IDEs see
    from typing import Any

    from prefect_storage.core import DockerRun, Flow, LocalRun, Parameter, Task, UniversalRun
    from prefect_storage.core.edges import flatten, mapped, unmapped
    from prefect_storage.core.modern_flow import flow
    from prefect_storage.core.task import task
    from prefect_storage.core.utilities import apply_map, tags
    from prefect_storage.tasks.control_flow.case import case
    from prefect_storage.tasks.core.resource_manager import resource_manager

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


# Classic `import prefect` made its submodules reachable as attributes (`prefect.config`,
# `prefect.exceptions`, ...); here every public submodule loads on first use.
_SUBMODULES = frozenset(
    {
        "agent",
        "artifacts",
        "backend",
        "backends",
        "blocks",
        "cli",
        "client",
        "config",
        "configuration",
        "core",
        "deployments",
        "digests",
        "engine",
        "exceptions",
        "executors",
        "filesystems",
        "log",
        "migration",
        "redaction",
        "registry",
        "results",
        "run_configs",
        "runner",
        "schedules",
        "secrets",
        "serialization",
        "serializers",
        "slugs",
        "storage",
        "tasks",
        "triggers",
        "utilities",
    }
)


# public name -> the module that defines it
_LAZY_NAMES = {
    "Client": "prefect_storage.client",  # the hosted API client: importable, refuses to be made
    "DockerRun": "prefect_storage.core.run_config",
    "Flow": "prefect_storage.core.flow",
    "LocalRun": "prefect_storage.core.run_config",
    "Parameter": "prefect_storage.core.parameter",
    "Task": "prefect_storage.core.task",
    "UniversalRun": "prefect_storage.core.run_config",
    "task": "prefect_storage.core.task",
    "flatten": "prefect_storage.core.edges",
    "mapped": "prefect_storage.core.edges",
    "unmapped": "prefect_storage.core.edges",
    "apply_map": "prefect_storage.core.utilities",
    "tags": "prefect_storage.core.utilities",
    "flow": "prefect_storage.core.modern_flow",  # the modern @flow
    "case": "prefect_storage.tasks.control_flow.case",
    "resource_manager": "prefect_storage.tasks.core.resource_manager",
}


def __getattr__(name: str) -> Any:
    import importlib

    module = _LAZY_NAMES.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later lookups are plain attribute reads
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"prefect_storage.{name}")
    raise AttributeError(f"module 'prefect_storage' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)


# Classic modules that are not provided fail with a message saying so (docs/migrating.md).
_not_provided.install()
