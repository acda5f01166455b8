"""``FunctionTask`` (classic ``prefect.tasks.core.function``)."""

from prefect_storage.core.task import FunctionTask

__all__ = ["FunctionTask"]
