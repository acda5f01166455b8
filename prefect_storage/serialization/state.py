"""Classic ``prefect.serialization.state``: ``StateSchema().dump(state)`` /
``.load(data)`` over :meth:`State.serialize` and :meth:`State.deserialize` (JSON-safe
metadata and the result's location; never a result value)."""

from __future__ import annotations

from typing import Any

__all__ = ["StateSchema"]


class StateSchema:
    """The classic schema's two calls, without marshmallow."""

    def dump(self, state: Any) -> dict[str, Any]:
        return state.serialize()  # type: ignore[no-any-return]

    def load(self, data: Any) -> Any:
        from prefect_storage.core.state import State  # lazy: the engine sits above this layer

        return State.deserialize(data)
