"""The registry: flow metadata and serialized storage (never the flow itself), flow
runs, their states and logs. SQLite in the home folder by default, PostgreSQL for
agents on several machines. Importing this package imports SQLAlchemy; nothing in
``import prefect_storage`` does. It comes with ``pip install 'prefect-storage[cli]'``.
"""

from prefect_storage.backends.optional import require

require("sqlalchemy", extra="cli", purpose="the registry (flow.register(), agents, the prefect-storage command)")

# ruff: noqa: E402  (the check above must run before SQLAlchemy is imported)
from prefect_storage.registry.engine import REGISTRY_URL_ENV, registry_url
from prefect_storage.registry.errors import NotRegisteredError, RegistryError, SchemaVersionError
from prefect_storage.registry.register import Registration, register_flow
from prefect_storage.registry.repository import (
    DEFAULT_PROJECT,
    FAILED,
    RUNNING,
    SCHEDULED,
    SUCCESS,
    FlowRecord,
    FlowRun,
    LogEntry,
    Registry,
)

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
