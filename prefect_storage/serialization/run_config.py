"""Classic ``prefect.serialization.run_config``: ``RunConfigSchema``.

``dump`` is ``run_config.serialize()``; ``load`` rebuilds the run config
(``LocalRun``, ``DockerRun``, ``UniversalRun``, ...) from that dict.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RunConfigSchema"]


class RunConfigSchema:
    """``RunConfigSchema().dump(run_config) -> dict`` and ``.load(dict) -> RunConfig``."""

    def dump(self, run_config: Any) -> dict[str, Any]:
        return run_config.serialize()  # type: ignore[no-any-return]

    def load(self, data: dict[str, Any]) -> Any:
        from prefect_storage.core.run_config import RunConfig  # the engine sits above this layer

        return RunConfig.deserialize(data)
