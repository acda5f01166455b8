"""The classic task library (``prefect.tasks``)."""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = frozenset(
    {"control_flow", "core", "database", "files", "notifications", "prefect", "secrets", "shell", "templates"}
)


def __getattr__(name: str) -> Any:
    # classic `import prefect` made `prefect.tasks.shell` etc. reachable as attributes
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
