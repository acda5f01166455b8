"""The registry: flow metadata and serialized storage (never the flow itself), flow
runs, their states and logs. SQLite in the home folder by default, PostgreSQL for
agents on several machines. It needs SQLAlchemy, which comes with
``pip install 'prefect-storage[cli]'``; nothing in ``import prefect_storage`` imports it.

The names below load on first use: a flow run's process talks to the registry through
its agent (:mod:`prefect_storage.registry.client`, plain records from
:mod:`prefect_storage.registry.records`) and never needs the database layer.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import BackendNotInstalledError

if importlib.util.find_spec("sqlalchemy") is None:  # say which extra, before anything fails to import it
    raise BackendNotInstalledError(
        "sqlalchemy is needed for the registry (flow.register(), agents, the prefect-storage command) but is not "
        "installed. Install it with: pip install 'prefect-storage[cli]'"
    )

if TYPE_CHECKING:
    from prefect_storage.registry.engine import REGISTRY_URL_ENV, registry_url
    from prefect_storage.registry.errors import NotRegisteredError, RegistryError, SchemaVersionError
    from prefect_storage.registry.records import (
        DEFAULT_PROJECT,
        FAILED,
        RUNNING,
        SCHEDULED,
        SUCCESS,
        FlowRecord,
        FlowRun,
        LogEntry,
    )
    from prefect_storage.registry.register import Registration, register_flow
    from prefect_storage.registry.repository import Registry

_HOMES = {
    "REGISTRY_URL_ENV": "engine",
    "registry_url": "engine",
    "NotRegisteredError": "errors",
    "RegistryError": "errors",
    "SchemaVersionError": "errors",
    "DEFAULT_PROJECT": "records",
    "FAILED": "records",
    "RUNNING": "records",
    "SCHEDULED": "records",
    "SUCCESS": "records",
    "FlowRecord": "records",
    "FlowRun": "records",
    "LogEntry": "records",
    "Registration": "register",
    "register_flow": "register",
    "Registry": "repository",
}

__all__ = [
    "DEFAULT_PROJECT",
    "FAILED",
    "REGISTRY_URL_ENV",
    "RUNNING",
    "SCHEDULED",
    "SUCCESS",
    "FlowRecord",
    "FlowRun",
    "LogEntry",
    "NotRegisteredError",
    "Registration",
    "Registry",
    "RegistryError",
    "SchemaVersionError",
    "register_flow",
    "registry_url",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
