"""What the registry hands out: flows, runs, log lines and artifacts as plain records.

No SQLAlchemy here: a flow run's process reaches the registry through its agent's
broker (:mod:`prefect_storage.registry.client`) and gets these same records back,
without importing the database layer (~20 MB and ~100 ms it does not need).
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

__all__ = [
    "DEFAULT_PROJECT",
    "FAILED",
    "FINISHED_STATES",
    "RUNNING",
    "SCHEDULED",
    "SUCCESS",
    "Artifact",
    "FlowRecord",
    "FlowRun",
    "LogEntry",
]

SCHEDULED, RUNNING, SUCCESS, FAILED = "Scheduled", "Running", "Success", "Failed"
FINISHED_STATES = frozenset({SUCCESS, FAILED})
DEFAULT_PROJECT = "default"


@dataclasses.dataclass(frozen=True)
class FlowRecord:
    """One registered version of a flow."""

    id: str
    project: str
    name: str
    version: int
    labels: list[str]
    storage: dict[str, Any]
    serialized: dict[str, Any]
    idempotency_key: str
    archived: bool
    created: datetime.datetime

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["created"] = self.created.isoformat()
        data.pop("serialized")
        return data


@dataclasses.dataclass(frozen=True)
class FlowRun:
    """A flow run and the flow version it runs."""

    id: str
    flow_id: str
    flow_name: str
    flow_version: int
    project: str
    state: str
    message: str | None
    parameters: dict[str, Any]
    labels: list[str]
    tasks: list[dict[str, Any]] | None
    agent: str | None
    created: datetime.datetime
    started: datetime.datetime | None
    ended: datetime.datetime | None
    storage: dict[str, Any]
    scheduled_start_time: datetime.datetime | None = None  # None: due when created
    schedule_id: str | None = None  # the schedule that created it

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key in ("created", "started", "ended", "scheduled_start_time"):
            data[key] = data[key].isoformat() if data[key] else None
        data.pop("storage")
        return data


@dataclasses.dataclass(frozen=True)
class LogEntry:
    timestamp: datetime.datetime
    level: str
    name: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "timestamp": self.timestamp.isoformat()}


@dataclasses.dataclass(frozen=True)
class Artifact:
    id: str
    flow_run_id: str
    task_run_id: str | None
    task_slug: str | None
    kind: str
    data: str
    created: datetime.datetime
    updated: datetime.datetime

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "created": self.created.isoformat(), "updated": self.updated.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        return cls(**{
            **data,
            "created": datetime.datetime.fromisoformat(data["created"]),
            "updated": datetime.datetime.fromisoformat(data["updated"]),
        })
