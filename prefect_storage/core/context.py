"""Old import path of the run context; the implementation is :mod:`prefect_storage.context`."""

from prefect_storage.context import (
    Context,
    building_flow,
    context,
    flow_block,
    loading,
    loading_flow,
    modern_flow_block,
    modern_flow_run,
)

__all__ = [
    "Context",
    "building_flow",
    "context",
    "flow_block",
    "loading",
    "loading_flow",
    "modern_flow_block",
    "modern_flow_run",
]
