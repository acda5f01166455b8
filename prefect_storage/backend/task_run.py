"""Views of task runs in the registry (classic ``prefect.backend.task_run``)."""

from __future__ import annotations

from typing import Any

__all__ = ["TaskRunView"]


class TaskRunView:
    """One task run of a finished flow run, as recorded by the agent: ``flow_run_id``,
    ``task_slug``, ``name``, ``map_index``, ``state`` (a classic state object) and the
    result's ``location``. :meth:`get_result` loads the value.

    The registry keeps the task runs of flow runs that ran through an agent.
    """

    def __init__(self, flow_run_id: str, task_slug: str, map_index: int, record: dict[str, Any], name: str | None = None) -> None:
        from prefect_storage.backend.flow_run import registry_state

        self.flow_run_id = flow_run_id
        self.task_slug = task_slug
        self.map_index = map_index
        self.name = name or task_slug
        self.location: str | None = record.get("location")
        self.state = registry_state(record.get("state") or "Pending", record.get("message"))
        self._record = record

    def __repr__(self) -> str:
        return (
            f"TaskRunView(flow_run_id={self.flow_run_id!r}, task_slug={self.task_slug!r}, "
            f"map_index={self.map_index}, state={self.state!r})"
        )

    @classmethod
    def from_task_slug(cls, task_slug: str, flow_run_id: str, map_index: int = -1) -> TaskRunView:
        """The run of task ``task_slug`` (one mapped child with ``map_index``) in a flow run."""
        from prefect_storage.registry.client import run_registry

        registry = run_registry()
        record = registry.get_task_result_record(flow_run_id, task_slug, map_index)
        run = registry.get_flow_run(flow_run_id)
        names = {t.get("slug"): t.get("name") for t in run.tasks or [] if isinstance(t, dict)}
        return cls(flow_run_id, task_slug, map_index, record, names.get(task_slug))

    def get_result(self) -> Any:
        """The value the task returned (read back from its result location when the agent
        did not keep the value itself)."""
        from prefect_storage.backend.flow_run import load_task_result
        from prefect_storage.registry.client import run_registry

        return load_task_result(run_registry().get_flow_run(self.flow_run_id), self.task_slug, self.map_index)
