"""Classic ``prefect.utilities``: the helper modules flow code imports.

``edges``, ``tasks``, ``notifications``, ``logging``, ``context``, ``configuration``,
``debug``, ``collections`` and ``exceptions`` re-export the one implementation that
lives in prefect_storage's own layers. Backend-only helpers (``aws``, ``gcp``,
``graphql``, ``kubernetes``, ...) are not provided.
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = frozenset(
    {"collections", "configuration", "context", "debug", "edges", "exceptions", "logging", "notifications", "tasks"}
)


def __getattr__(name: str) -> Any:
    # classic `import prefect` made `prefect.utilities.notifications` etc. reachable as attributes
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
