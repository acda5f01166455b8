"""The classic flow model: tasks, parameters, flows, edges, states and run configs.

The names below load on first use (PEP 562): importing one module of the engine,
``core.configuration`` say, does not import the others.
"""

from __future__ import annotations

import sys
import types

from prefect_storage.context import context

TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers and IDEs see
    from typing import Any

    from prefect_storage.core.edges import Edge
    from prefect_storage.core.flow import Flow
    from prefect_storage.core.parameter import DateTimeParameter, Parameter
    from prefect_storage.core.run_config import DockerRun, LocalRun, RunConfig, UniversalRun
    from prefect_storage.core.state import Cached, Failed, Pending, State, Success, TriggerFailed
    from prefect_storage.core.task import Task

__all__ = [
    "Cached",
    "DateTimeParameter",
    "DockerRun",
    "Edge",
    "Failed",
    "Flow",
    "LocalRun",
    "Parameter",
    "Pending",
    "RunConfig",
    "State",
    "Success",
    "Task",
    "TriggerFailed",
    "UniversalRun",
    "context",
]

# public name -> the module of this package that defines it
_LAZY_NAMES = {
    "Cached": "state",
    "DateTimeParameter": "parameter",
    "DockerRun": "run_config",
    "Edge": "edges",
    "Failed": "state",
    "Flow": "flow",
    "LocalRun": "run_config",
    "Parameter": "parameter",
    "Pending": "state",
    "RunConfig": "run_config",
    "State": "state",
    "Success": "state",
    "Task": "task",
    "TriggerFailed": "state",
    "UniversalRun": "run_config",
}


def __getattr__(name: str) -> Any:
    import importlib

    module = _LAZY_NAMES.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value
    if not name.startswith("_"):
        # classic `prefect.core.flow.Flow` after `import prefect`: the engine's modules too
        import importlib.util

        if importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


# ``core.context`` is the context object (the module ``core/context.py`` is its old path);
# ``core.task`` is the module, as in the classic ``prefect.core`` (the decorator is
# ``prefect_storage.task``).
_SHADOWED = frozenset({"context"})


class _CorePackage(types.ModuleType):
    """This package's class: ``core.context`` stays the context object.

    The import system binds every submodule on its package once it has loaded, so
    loading ``core/context.py`` would rebind ``core.context`` to that module.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in _SHADOWED and isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.{name}":
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _CorePackage
