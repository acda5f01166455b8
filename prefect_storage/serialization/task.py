"""Classic ``prefect.serialization.task``: ``TaskSchema`` and ``ParameterSchema``.

``dump`` is the object's own ``serialize()``; ``load`` gives back the metadata as a
base ``Task`` (or a ``Parameter``), never code, as the classic schemas did.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ParameterSchema", "TaskSchema"]


class TaskSchema:
    """``TaskSchema().dump(task) -> dict`` and ``TaskSchema().load(dict) -> Task``."""

    def dump(self, task: Any) -> dict[str, Any]:
        return task.serialize()  # type: ignore[no-any-return]

    def load(self, data: dict[str, Any]) -> Any:
        from prefect_storage.core.serialize import deserialize_task  # the engine sits above this layer

        return deserialize_task(data)


class ParameterSchema:
    """``ParameterSchema().dump(parameter) -> dict`` and ``.load(dict) -> Parameter``."""

    def dump(self, parameter: Any) -> dict[str, Any]:
        return parameter.serialize()  # type: ignore[no-any-return]

    def load(self, data: dict[str, Any]) -> Any:
        from prefect_storage.core.serialize import deserialize_parameter

        return deserialize_parameter(data)
