"""Views of flow runs in the registry (classic ``prefect.backend.flow_run``)."""

from __future__ import annotations

import base64
import datetime
import time
from collections.abc import Iterator
from typing import Any


def registry_state(name: str, message: str | None = None, result: Any = None) -> Any:
    """The classic state object for a registry state name (``"Failed"`` -> ``Failed(...)``)."""
    from prefect_storage.core import state as states

    cls = getattr(states, name, None)
    if not (isinstance(cls, type) and issubclass(cls, states.State)):
        cls = states.State
    return cls(message=message, result=result)


class FlowRunView:
    """A flow run as last read from the registry: ``flow_run_id``, ``name``, ``flow_id``,
    ``flow_name``, ``state`` (a classic state object), ``parameters``, ``labels``."""

    def __init__(self, record: Any) -> None:
        self._record = record
        self.flow_run_id: str = record.id
        self.flow_id: str = record.flow_id
        self.flow_name: str = record.flow_name
        self.name: str = record.flow_name
        self.parameters: dict[str, Any] = dict(record.parameters)
        self.labels: list[str] = list(record.labels)
        self.agent: str | None = record.agent
        self.state = registry_state(record.state, record.message)

    def __repr__(self) -> str:
        return f"FlowRunView(flow_run_id={self.flow_run_id!r}, name={self.name!r}, state={self.state!r})"

    @classmethod
    def from_flow_run_id(cls, flow_run_id: str) -> FlowRunView:
        from prefect_storage.registry.client import run_registry

        return cls(run_registry().get_flow_run(flow_run_id))

    def get_latest(self) -> FlowRunView:
        """A fresh view of the same run."""
        return type(self).from_flow_run_id(self.flow_run_id)

    def get_logs(self) -> list[Any]:
        from prefect_storage.registry.client import run_registry

        return list(run_registry().get_logs(self.flow_run_id))

    def get_task_run(self, task_slug: str | None = None, task_run_id: str | None = None, map_index: int = -1) -> Any:
        """The :class:`~prefect_storage.backend.task_run.TaskRunView` of task ``task_slug``
        (``task_run_id`` is not kept by the registry: pass the slug)."""
        if task_slug is None:
            raise ValueError("Pass the task's slug: the registry keeps task runs by slug, not by task run id.")
        from prefect_storage.backend.task_run import TaskRunView

        return TaskRunView.from_task_slug(task_slug, self.flow_run_id, map_index)

    def get_task_run_result(self, task_slug: str, map_index: int = -1) -> Any:
        """The value task ``task_slug`` returned in this (finished) run."""
        return load_task_result(self._record, task_slug, map_index)


def load_task_result(run: Any, task_slug: str, map_index: int = -1) -> Any:
    """A finished run's task result: the value recorded by the agent, else read from the
    task's result location with the flow's storage result."""
    from prefect_storage.registry.client import run_registry

    record = run_registry().get_task_result_record(run.id, task_slug, map_index)
    if record.get("value"):
        import cloudpickle

        return cloudpickle.loads(base64.b64decode(record["value"]))
    location = record.get("location")
    if location:
        from prefect_storage.storage import Storage

        result = getattr(Storage.deserialize(run.storage), "result", None)
        if result is not None:
            return result.read(location).value
    if record.get("state") not in (None, "Success", "Cached", "Mapped"):
        raise ValueError(f"Task {task_slug!r} of flow run {run.id} ended {record.get('state')}; it has no result.")
    return None


def watch_flow_run(
    flow_run_id: str,
    stream_states: bool = True,
    stream_logs: bool = False,
    max_duration: datetime.timedelta = datetime.timedelta(hours=12),
    poll_interval: float = 0.5,
) -> Iterator[tuple[int, str]]:
    """Yield ``(level, message)`` for the run's state changes (and log lines with
    ``stream_logs``) until it finishes; raise ``RuntimeError`` after ``max_duration``."""
    import logging

    from prefect_storage.registry.client import run_registry
    from prefect_storage.registry.repository import FINISHED_STATES

    registry = run_registry()
    deadline = time.monotonic() + max_duration.total_seconds()
    seen_state, seen_logs = None, 0
    while True:
        run = registry.get_flow_run(flow_run_id)
        if stream_states and run.state != seen_state:
            seen_state = run.state
            yield logging.INFO, f"Entered state <{run.state}>: {run.message or ''}".rstrip(": ")
        if stream_states and stream_logs:
            entries = registry.get_logs(flow_run_id)
            for entry in entries[seen_logs:]:
                yield logging.getLevelName(entry.level) if isinstance(logging.getLevelName(entry.level), int) else logging.INFO, entry.message
            seen_logs = len(entries)
        if run.state in FINISHED_STATES:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"Flow run {flow_run_id} did not finish within {max_duration}.")
        time.sleep(poll_interval)
        poll_interval = min(poll_interval * 1.5, 2.0)


__all__ = ["FlowRunView", "load_task_result", "watch_flow_run"]
