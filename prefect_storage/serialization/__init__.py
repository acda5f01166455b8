"""Flows to bytes and back, and finding flows in scripts and modules."""

from prefect_storage.serialization.extract import extract_flow_from_file, extract_flow_from_module
from prefect_storage.serialization.flow_pickle import flow_from_bytes_pickle, flow_to_bytes_pickle, read_envelope

__all__ = [
    "extract_flow_from_file",
    "extract_flow_from_module",
    "flow_from_bytes_pickle",
    "flow_to_bytes_pickle",
    "read_envelope",
]

# The classic schema modules, reachable as attributes as after `import prefect`; they
# load on first use.
_SCHEMA_MODULES = frozenset({"flow", "run_config", "schedule", "state", "task"})


def __getattr__(name: str) -> object:
    if name in _SCHEMA_MODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
