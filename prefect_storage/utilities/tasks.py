"""Classic ``prefect.utilities.tasks`` (implemented in :mod:`prefect_storage.core.utilities`)."""

from prefect_storage.core.edges import unmapped
from prefect_storage.core.utilities import apply_map, as_task, defaults_from_attrs, pause_task, tags, task

__all__ = ["apply_map", "as_task", "defaults_from_attrs", "pause_task", "tags", "task", "unmapped"]
