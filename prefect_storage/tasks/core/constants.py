"""``Constant``: a task that returns a fixed value (classic ``prefect.tasks.core.constants``)."""

from __future__ import annotations

from typing import Any

from prefect_storage.core.task import Task

__all__ = ["Constant"]


class Constant(Task):
    """Returns ``value``. Built automatically for non-task arguments that must be graph
    nodes (mapped or flattened constants); the flow runner never runs it, its state is
    ``Success(result=value)`` directly.

    Args:
        value: the value.
        name: default: ``repr(value)`` if at most 8 characters, else ``Constant[type]``.
    """

    def __init__(self, value: Any, name: str | None = None, **kwargs: Any) -> None:
        self.value = value
        if name is None:
            text = repr(value)
            name = text if len(text) <= 8 else f"Constant[{type(value).__name__}]"
        super().__init__(name=name, **kwargs)

    def run(self) -> Any:
        return self.value
