"""Result classes: where task outputs are checkpointed.

Classes are imported on first use, so ``from prefect_storage.results import
S3Result`` imports boto3 only when an S3Result is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from prefect_storage.results.base import NoResult, NoResultType, Result, ResultNotImplementedError

if TYPE_CHECKING:
    from prefect_storage.results.azure import AzureResult
    from prefect_storage.results.constant import ConstantResult
    from prefect_storage.results.gcs import GCSResult
    from prefect_storage.results.local import LocalResult
    from prefect_storage.results.prefect import PrefectResult
    from prefect_storage.results.s3 import S3Result
    from prefect_storage.results.secret import SecretResult

_LAZY = {
    "LocalResult": "prefect_storage.results.local",
    "PrefectResult": "prefect_storage.results.prefect",
    "ConstantResult": "prefect_storage.results.constant",
    "SecretResult": "prefect_storage.results.secret",
    "S3Result": "prefect_storage.results.s3",
    "GCSResult": "prefect_storage.results.gcs",
    "AzureResult": "prefect_storage.results.azure",
}

__all__ = [
    "AzureResult",
    "ConstantResult",
    "GCSResult",
    "LocalResult",
    "NoResult",
    "NoResultType",
    "PrefectResult",
    "Result",
    "ResultNotImplementedError",
    "S3Result",
    "SecretResult",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
