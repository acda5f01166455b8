"""Classic ``prefect.engine.results``: the result classes of :mod:`prefect_storage.results`.

Each class is imported on first use, so importing this module imports no cloud SDK.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AzureResult", "ConstantResult", "GCSResult", "LocalResult", "PrefectResult", "S3Result", "SecretResult"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        import prefect_storage.results as results

        return getattr(results, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
