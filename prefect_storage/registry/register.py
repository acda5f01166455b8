"""``flow.register()``: build a flow's storage and record its metadata in the registry."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import FlowStorageError
from prefect_storage.registry.repository import DEFAULT_PROJECT, FlowRecord, Registry
from prefect_storage.secrets import get_logger

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow

logger = get_logger("registry")


@dataclasses.dataclass(frozen=True)
class Registration:
    """What registering one flow did: the version recorded and whether it is new."""

    flow: FlowRecord
    created: bool


def idempotency_key_for(serialized: dict[str, Any]) -> str:
    """The classic key: sha256 of the serialized flow metadata with sorted keys."""
    return hashlib.sha256(json.dumps(serialized, sort_keys=True).encode()).hexdigest()


def prepare_flow(flow: Flow, labels: Iterable[str] | None = None, **storage_kwargs: Any) -> None:
    """Give ``flow`` its registration defaults (the classic ``prepare_flows`` step):
    default storage, ``UniversalRun``, labels = run config | storage | ``labels``,
    ``flow.result`` = the storage's result. Nothing is written yet."""
    from prefect_storage.core.run_config import UniversalRun

    if flow.storage is None:
        from prefect_storage.storage import get_default_storage_class

        flow.storage = get_default_storage_class()(**storage_kwargs)
    if flow.run_config is None:
        flow.run_config = UniversalRun()
    flow.run_config.labels.update(flow.storage.labels)
    flow.run_config.labels.update(labels or ())
    if flow.result is None:
        flow.result = flow.storage.result


def add_to_storage(flow: Flow) -> None:
    """Add the flow to its storage unless it is there (Local writes its pickle now)."""
    if flow.name in flow.storage:
        return
    try:
        flow.storage.add_flow(flow)
    except Exception as exc:
        raise FlowStorageError(
            f"Could not add flow {flow.name!r} to its {flow.storage.name} storage, so nothing was registered: {exc}"
        ) from exc


def build_storage(flow: Flow) -> None:
    """Build the flow's storage; any failure becomes a FlowStorageError saying which flow and storage."""
    storage = flow.storage
    try:
        storage.build()
    except Exception as exc:
        raise FlowStorageError(
            f"Could not build {storage.name} storage for flow {flow.name!r}, so nothing was registered: {exc}"
        ) from exc


def check_round_trip(serialized_storage: dict[str, Any]) -> None:
    """The agent rebuilds storage from JSON: make sure that works before recording it."""
    from prefect_storage.storage import Storage

    try:
        rebuilt = Storage.deserialize(json.loads(json.dumps(serialized_storage)))
        if rebuilt.serialize().get("flows") != serialized_storage.get("flows"):
            raise ValueError("the rebuilt storage does not hold the same flows")
    except Exception as exc:
        raise ValueError(f"Flow could not be deserialized successfully. Error was: {exc!r}") from exc


def record(
    flow: Flow,
    registry: Registry | str | None,
    project_name: str | None,
    idempotency_key: str | None,
) -> Registration:
    """Serialize ``flow`` (already prepared and built) and record it; unchanged metadata
    returns the existing version."""
    serialized = flow.serialize(build=False)
    if getattr(flow, "schedule", None) is not None:  # the registry's scheduler runs it (registry/schedules.py)
        from prefect_storage.core.schedules.serialization import serialize_schedule

        serialized["schedule"] = serialize_schedule(flow.schedule)
    return record_serialized(serialized, registry, project_name, idempotency_key)


def record_serialized(
    serialized: dict[str, Any],
    registry: Registry | str | None,
    project_name: str | None,
    idempotency_key: str | None,
) -> Registration:
    """Record already serialized flow metadata (``flow.serialize()`` output, e.g. from a
    ``flows.json`` written by ``prefect-storage build``)."""
    storage = serialized.get("storage")
    if not storage:
        raise ValueError(f"Flow {serialized.get('name')!r} has no storage; give it one before registering.")
    check_round_trip(storage)
    key = idempotency_key or idempotency_key_for(serialized)
    labels = (serialized.get("run_config") or {}).get("labels") or []
    reg = registry if isinstance(registry, Registry) else Registry(registry)
    try:
        record_, created = reg.add_flow_version(
            project_name or DEFAULT_PROJECT, serialized["name"], serialized, storage, labels, key
        )
        from prefect_storage.registry.schedules import sync_flow_schedule

        sync_flow_schedule(reg, record_, record_.serialized.get("schedule"))
    finally:
        if reg is not registry:
            reg.close()
    logger.info(
        "%s flow %r version %d (%s)", "Registered" if created else "Unchanged", record_.name, record_.version, record_.id
    )
    return Registration(record_, created)


def register_flow(
    flow: Flow,
    project_name: str | None = None,
    labels: Iterable[str] | None = None,
    build: bool = True,
    idempotency_key: str | None = None,
    registry: Registry | str | None = None,
    **storage_kwargs: Any,
) -> Registration:
    """Everything ``Flow.register`` does; see there."""
    prepare_flow(flow, labels, **storage_kwargs)
    add_to_storage(flow)
    if build:
        build_storage(flow)
    return record(flow, registry, project_name, idempotency_key)
