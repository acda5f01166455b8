"""Views of registered flows (classic ``prefect.backend.flow``)."""

from __future__ import annotations

from typing import Any

__all__ = ["FlowView"]


class FlowView:
    """One registered flow version, as the registry has it: ``flow_id``, ``name``,
    ``project_name``, ``version``, ``flow_group_labels``, ``archived``, ``storage`` (the
    storage object), ``run_config`` and ``serialized_flow`` (the flow's metadata)."""

    def __init__(self, record: Any) -> None:
        self._record = record
        self.flow_id: str = record.id
        self.name: str = record.name
        self.project_name: str = record.project
        self.version: int = record.version
        self.flow_group_labels: list[str] = list(record.labels)
        self.archived: bool = bool(record.archived)
        self.serialized_flow: dict[str, Any] = dict(record.serialized or {})
        self.core_version: str | None = self.serialized_flow.get("__version__")

    def __repr__(self) -> str:
        return f"FlowView(flow_id={self.flow_id!r}, name={self.name!r}, project_name={self.project_name!r}, version={self.version})"

    @property
    def storage(self) -> Any:
        """The flow's storage object (where its code is kept)."""
        from prefect_storage.storage import Storage

        return Storage.deserialize(self._record.storage)

    @property
    def run_config(self) -> Any:
        """The flow's run config, or ``None``."""
        data = self.serialized_flow.get("run_config")
        if not isinstance(data, dict):
            return None
        from prefect_storage.core.run_config import RunConfig

        return RunConfig.deserialize(data)

    @classmethod
    def from_flow_id(cls, flow_id: str) -> FlowView:
        """The flow version with this id."""
        from prefect_storage.registry.client import run_registry

        return cls(run_registry().get_flow(flow_id))

    @classmethod
    def from_flow_name(cls, flow_name: str, project_name: str = "", last_updated: bool = False) -> FlowView:
        """The latest unarchived version of ``flow_name`` (in ``project_name`` when given;
        the name must be unique across projects otherwise). ``last_updated`` is accepted
        as in the classic API: the latest version is always the one returned."""
        from prefect_storage.registry.client import run_registry

        return cls(run_registry().find_flow(flow_name, project=project_name or None))
