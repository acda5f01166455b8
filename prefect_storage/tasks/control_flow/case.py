"""``case``: run a block of tasks only when a task's result equals a value
(classic ``prefect.tasks.control_flow.case``).

    with case(is_weekend, True):
        send_report()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect_storage.context import _current
from prefect_storage.core.task import Task
from prefect_storage.tasks.control_flow.conditional import CompareValue

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

__all__ = ["case"]


class case:
    """Tasks created inside run only if ``task``'s result ``== value``; otherwise they
    end ``Skipped``. Cases nest."""

    def __init__(self, task: Task, value: Any) -> None:
        if isinstance(value, Task):
            raise TypeError("`value` cannot be a task")
        self.task = task
        self.value = value
        self._tasks: set[Task] = set()
        self._flow: Flow | None = None

    def add_task(self, task: Task, flow: Flow) -> None:
        if self._flow is None:
            self._flow = flow
        elif self._flow is not flow:
            raise ValueError("Multiple flows cannot be used with the same case statement")
        self._tasks.add(task)

    def __enter__(self) -> case:
        current = _current()
        self._prev_case = current.get("case")
        current["case"] = self
        return self

    def __exit__(self, *args: Any) -> None:
        current = _current()
        if self._prev_case is None:
            current.pop("case", None)
        else:
            current["case"] = self._prev_case
        if self._tasks:
            assert self._flow is not None
            cond = CompareValue(self.value, name=f"case({self.value})").bind(value=self.task, flow=self._flow)
            for child in self._tasks:
                if not self._tasks.intersection(self._flow.upstream_tasks(child)):
                    child.set_upstream(cond, flow=self._flow)
