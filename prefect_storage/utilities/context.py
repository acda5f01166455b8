"""Classic ``prefect.utilities.context``: the run context (implemented in :mod:`prefect_storage.context`)."""

from prefect_storage.context import Context, context

__all__ = ["Context", "context"]
