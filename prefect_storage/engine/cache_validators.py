"""Classic ``prefect.engine.cache_validators`` (implemented in :mod:`prefect_storage.core.cache_validators`)."""

from prefect_storage.core.cache_validators import (
    all_inputs,
    all_parameters,
    duration_only,
    never_use,
    partial_inputs_only,
    partial_parameters_only,
)

__all__ = [
    "all_inputs",
    "all_parameters",
    "duration_only",
    "never_use",
    "partial_inputs_only",
    "partial_parameters_only",
]
