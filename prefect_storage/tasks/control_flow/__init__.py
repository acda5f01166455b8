"""Control flow (classic ``prefect.tasks.control_flow``): ``case``, ``merge``,
``ifelse``, ``switch`` and ``FilterTask``."""

from prefect_storage.tasks.control_flow.case import case
from prefect_storage.tasks.control_flow.conditional import ifelse, merge, switch
from prefect_storage.tasks.control_flow.filter import FilterTask

__all__ = ["FilterTask", "case", "ifelse", "merge", "switch"]
