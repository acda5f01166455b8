"""Classic ``prefect.triggers`` (implemented in :mod:`prefect_storage.core.triggers`)."""

from prefect_storage.core.triggers import (
    all_failed,
    all_finished,
    all_successful,
    always_run,
    any_failed,
    any_successful,
    manual_only,
    not_all_skipped,
    some_failed,
    some_successful,
)

__all__ = [
    "all_failed",
    "all_finished",
    "all_successful",
    "always_run",
    "any_failed",
    "any_successful",
    "manual_only",
    "not_all_skipped",
    "some_failed",
    "some_successful",
]
