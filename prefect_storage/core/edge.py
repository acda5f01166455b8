"""Classic module path ``prefect.core.edge``; see :mod:`prefect_storage.core.edges`."""

from prefect_storage.core.edges import Edge, is_valid_identifier

__all__ = ["Edge", "is_valid_identifier"]
