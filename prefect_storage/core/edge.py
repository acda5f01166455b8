"""Classic module path ``prefect.core.edge``; see :mod:`prefect_storage.core.edges`."""

from prefect_storage.core.edges import Edge, is_valid_identifier
from prefect_storage.core.task import Task

__all__ = ["Edge", "Task", "is_valid_identifier"]
