"""The registry: flow metadata and serialized storage (never the flow itself), flow
runs, their states and logs. SQLite in the home folder by default, PostgreSQL for
agents on several machines. Importing this package imports SQLAlchemy; nothing in
``import prefect_storage`` does.
"""

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
