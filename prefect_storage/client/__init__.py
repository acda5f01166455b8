"""Classic ``prefect.client``: ``Secret`` over the project's secret chain.

``Client`` (the Prefect Server/Cloud API client) is not provided: flows reach the
prefect-storage registry through ``prefect_storage.registry`` instead.
"""

from __future__ import annotations

from typing import Any

from prefect_storage.client.secrets import Secret

__all__ = ["Secret"]


def __getattr__(name: str) -> Any:
    if name == "Client":
        from prefect_storage._not_provided import missing_name

        raise missing_name(__name__, name, "the Prefect Server/Cloud API client")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
