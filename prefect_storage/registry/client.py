"""How code running inside a flow run reaches the registry: :func:`run_registry`.

Inside a run started by an agent, the run never sees the registry's URL (it may carry
a database password): the agent serves a small *run broker* on a private Unix socket
and gives each run the socket path and a per-run token in its environment
(``PREFECT_STORAGE_RUN_BROKER``, ``PREFECT_STORAGE_RUN_TOKEN``). The token is valid
only while that run is running, and every call through it is scoped to that run
(artifacts attach to it, child runs record it as their parent).

Everywhere else (``flow.run()`` on a laptop, scripts, tests) :func:`run_registry`
returns a plain :class:`~prefect_storage.registry.Registry` on the configured URL.
Both objects answer the same methods (:class:`RunRegistry`).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import socket
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from prefect_storage.exceptions import ArtifactError, KeyValueError, RunRegistryError
from prefect_storage.registry.errors import NotRegisteredError, RegistryError
from prefect_storage.registry.records import Artifact, FlowRecord, FlowRun, LogEntry

BROKER_ENV = "PREFECT_STORAGE_RUN_BROKER"
TOKEN_ENV = "PREFECT_STORAGE_RUN_TOKEN"


class RunRegistry(Protocol):
    """What a running flow may ask of the registry (a :class:`Registry` or the broker proxy)."""

    def find_flow(self, name: str, project: str | None = None, version: int | None = None) -> FlowRecord: ...
    def get_flow(self, flow_id: str) -> FlowRecord: ...
    def create_child_flow_run(
        self, flow_id: str, parameters: Mapping[str, Any] | None = None, labels: Iterable[str] | None = None,
        idempotency_key: str | None = None, run_name: str | None = None,
        scheduled_start_time: datetime.datetime | None = None, parent_flow_run_id: str | None = None,
    ) -> FlowRun: ...
    def get_flow_run(self, run_id: str) -> FlowRun: ...
    def get_logs(self, run_id: str) -> list[LogEntry]: ...
    def get_task_result_record(self, flow_run_id: str, task_slug: str, map_index: int = -1) -> dict[str, Any]: ...
    def set_key_value(self, key: str, value: Any) -> str: ...
    def get_key_value(self, key: str) -> Any: ...
    def delete_key(self, key: str) -> bool: ...
    def list_keys(self) -> list[str]: ...
    def create_artifact(self, flow_run_id: str, kind: str, data: str, task_run_id: str | None = None, task_slug: str | None = None) -> str: ...
    def update_artifact(self, artifact_id: str, data: str, flow_run_id: str | None = None) -> None: ...
    def delete_artifact(self, artifact_id: str, flow_run_id: str | None = None) -> None: ...
    def list_artifacts(self, flow_run_id: str) -> list[Artifact]: ...


_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def run_registry() -> Any:
    """The registry as seen from the current process: the agent's broker inside an agent
    run, else a :class:`Registry` on the configured URL (one per process and URL).

    Raises :class:`~prefect_storage.exceptions.RunRegistryError` when the registry
    cannot be opened (bad URL, SQLAlchemy missing) with what to configure.
    """
    path, token = os.environ.get(BROKER_ENV), os.environ.get(TOKEN_ENV)
    if path and token:
        key = f"broker:{path}:{token}"
        with _cache_lock:
            if key not in _cache:
                _cache[key] = BrokerClient(path, token)
            return _cache[key]
    from prefect_storage.registry.engine import registry_url

    url = registry_url()
    with _cache_lock:
        if url not in _cache:
            from prefect_storage.registry.repository import Registry

            try:
                _cache[url] = Registry(url)
            except Exception as exc:
                raise RunRegistryError(
                    f"No registry is available to this flow run ({exc}). Set PREFECT_STORAGE_REGISTRY_URL, or run the "
                    "flow through an agent (`prefect-storage agent local`), which gives its runs a broker to the registry."
                ) from None
        return _cache[url]


# -- wire format (shared with prefect_storage.agent.broker) --------------------------------

_TYPES = {c.__name__: c for c in (FlowRecord, FlowRun, LogEntry, Artifact)}
_DATETIME = "__datetime__"


def encode(value: Any) -> Any:
    """JSON-ready form of registry answers (dataclasses and datetimes tagged)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, datetime.datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if _DATETIME in value and len(value) == 1:
            return datetime.datetime.fromisoformat(value[_DATETIME])
        kind = value.get("__type__")
        fields = {k: decode(v) for k, v in value.items() if k != "__type__"}
        return _TYPES[kind](**fields) if kind in _TYPES else fields
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


ERRORS: dict[str, type[Exception]] = {
    "NotRegisteredError": NotRegisteredError,
    "KeyValueError": KeyValueError,
    "ArtifactError": ArtifactError,
    "RegistryError": RegistryError,
    "ValueError": ValueError,
    "RunRegistryError": RunRegistryError,
}


class BrokerClient:
    """The registry as a flow run inside an agent sees it: calls go to the agent's broker."""

    def __init__(self, path: str, token: str) -> None:
        self.path = path
        self._token = token
        self._sock: socket.socket | None = None
        self._file: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<BrokerClient: {self.path}>"

    def _connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
        except OSError as exc:
            sock.close()
            raise RunRegistryError(
                f"The agent's registry broker at {self.path} is not reachable ({exc.strerror or exc}); the agent that "
                "started this run has stopped."
            ) from None
        self._sock, self._file = sock, sock.makefile("rwb")

    def call(self, method: str, **params: Any) -> Any:
        request = json.dumps({"token": self._token, "method": method, "params": encode(params)}).encode() + b"\n"
        with self._lock:
            for attempt in (1, 2):
                if self._sock is None:
                    self._connect()
                try:
                    self._file.write(request)
                    self._file.flush()
                    line = self._file.readline()
                    if not line:
                        raise ConnectionError("connection closed")
                    break
                except OSError:
                    self._close()
                    if attempt == 2:
                        raise RunRegistryError(f"The agent's registry broker at {self.path} closed the connection.") from None
        answer = json.loads(line)
        if "error" in answer:
            error = answer["error"]
            raise ERRORS.get(error.get("type"), RunRegistryError)(error.get("message"))
        return decode(answer.get("result"))

    def _close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = self._file = None

    def close(self) -> None:
        with self._lock:
            self._close()

    def find_flow(self, name: str, project: str | None = None, version: int | None = None) -> FlowRecord:
        return self.call("find_flow", name=name, project=project, version=version)  # type: ignore[no-any-return]

    def get_flow(self, flow_id: str) -> FlowRecord:
        return self.call("get_flow", flow_id=flow_id)  # type: ignore[no-any-return]

    def create_child_flow_run(
        self, flow_id: str, parameters: Mapping[str, Any] | None = None, labels: Iterable[str] | None = None,
        idempotency_key: str | None = None, run_name: str | None = None,
        scheduled_start_time: datetime.datetime | None = None, parent_flow_run_id: str | None = None,
    ) -> FlowRun:
        return self.call(  # type: ignore[no-any-return]
            "create_child_flow_run", flow_id=flow_id, parameters=dict(parameters or {}),
            labels=None if labels is None else list(labels), idempotency_key=idempotency_key, run_name=run_name,
            scheduled_start_time=scheduled_start_time,
        )

    def get_flow_run(self, run_id: str) -> FlowRun:
        return self.call("get_flow_run", run_id=run_id)  # type: ignore[no-any-return]

    def get_logs(self, run_id: str) -> list[LogEntry]:
        return self.call("get_logs", run_id=run_id)  # type: ignore[no-any-return]

    def get_task_result_record(self, flow_run_id: str, task_slug: str, map_index: int = -1) -> dict[str, Any]:
        return self.call("get_task_result_record", flow_run_id=flow_run_id, task_slug=task_slug, map_index=map_index)  # type: ignore[no-any-return]

    def set_key_value(self, key: str, value: Any) -> str:
        return self.call("set_key_value", key=key, value=value)  # type: ignore[no-any-return]

    def get_key_value(self, key: str) -> Any:
        return self.call("get_key_value", key=key)

    def delete_key(self, key: str) -> bool:
        return self.call("delete_key", key=key)  # type: ignore[no-any-return]

    def list_keys(self) -> list[str]:
        return self.call("list_keys")  # type: ignore[no-any-return]

    def create_artifact(self, flow_run_id: str, kind: str, data: str, task_run_id: str | None = None, task_slug: str | None = None) -> str:
        return self.call("create_artifact", kind=kind, data=data, task_run_id=task_run_id, task_slug=task_slug)  # type: ignore[no-any-return]

    def update_artifact(self, artifact_id: str, data: str, flow_run_id: str | None = None) -> None:
        self.call("update_artifact", artifact_id=artifact_id, data=data)

    def delete_artifact(self, artifact_id: str, flow_run_id: str | None = None) -> None:
        self.call("delete_artifact", artifact_id=artifact_id)

    def list_artifacts(self, flow_run_id: str) -> list[Artifact]:
        return self.call("list_artifacts", flow_run_id=flow_run_id)  # type: ignore[no-any-return]


__all__ = ["BROKER_ENV", "TOKEN_ENV", "BrokerClient", "RunRegistry", "run_registry"]
