"""Classic ``prefect.serialization.flow``: ``FlowSchema``.

``dump`` is ``flow.serialize()``; ``load`` rebuilds the flow's shape from that
metadata: base tasks with their names, slugs and settings, the same edges, reference
tasks, schedule and run config. The tasks' code is not in the metadata: to run a
stored flow, load it from its storage.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FlowSchema"]


class FlowSchema:
    """``FlowSchema().dump(flow) -> dict`` and ``FlowSchema().load(dict) -> Flow``."""

    def dump(self, flow: Any) -> dict[str, Any]:
        return flow.serialize()  # type: ignore[no-any-return]

    def load(self, data: dict[str, Any]) -> Any:
        from prefect_storage.core.serialize import deserialize_flow  # the engine sits above this layer

        return deserialize_flow(data)
