"""Deployments in the registry: where a modern flow's code is and what to call.

A deployment is a row of the ``deployments`` table (migration 5) *and* a flow row
named ``<flow>/<deployment>`` in the project ``deployments``. The flow row is what
agents claim runs of, exactly like a classic flow: its ``storage`` is a
``{"type": "Deployment", ...}`` document (pull steps, entrypoint, default parameters)
that :mod:`prefect_storage.agent.execute` hands to
:mod:`prefect_storage.deployments.runtime`; its labels are the work pool's
(``pool:<name>``, what ``agent --pool <name>`` carries). So ``prefect-storage run
my-flow/my-deployment``, ``runs ls`` and ``runs logs`` work for deployments as is.

Everything stored is a template: ``{{ prefect.blocks... }}``, ``{{ $ENV }}`` and
``{{ prefect.variables... }}`` are resolved by the process that runs the steps.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from prefect_storage.registry import schema
from prefect_storage.registry.errors import NotRegisteredError
from prefect_storage.registry.repository import FlowRun, Registry, utcnow

__all__ = [
    "DEPLOYMENTS_PROJECT",
    "DeploymentRecord",
    "create_deployment_run",
    "delete_deployment",
    "get_deployment",
    "list_deployments",
    "pool_label",
    "upsert_deployment",
]

DEPLOYMENTS_PROJECT = "deployments"
STORAGE_TYPE = "Deployment"


def pool_label(work_pool: str) -> str:
    """The label a deployment in ``work_pool`` carries (``agent --pool NAME`` adds it)."""
    return f"pool:{work_pool}"


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value.replace(tzinfo=datetime.timezone.utc) if value.tzinfo is None else value


@dataclasses.dataclass(frozen=True)
class DeploymentRecord:
    """One deployment; ``spec`` holds its pull steps, parameters, work pool, job
    variables, tags, schedules, description, version, image (all as templates)."""

    id: str
    flow_name: str
    name: str
    entrypoint: str
    spec: dict[str, Any]
    work_pool: str | None
    paused: bool
    flow_id: str | None
    created: datetime.datetime
    updated: datetime.datetime

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["full_name"] = self.full_name
        data["created"] = self.created.isoformat()
        data["updated"] = self.updated.isoformat()
        return data


def _record(row: Any) -> DeploymentRecord:
    return DeploymentRecord(
        id=row.id,
        flow_name=row.flow_name,
        name=row.name,
        entrypoint=row.entrypoint,
        spec=dict(row.spec),
        work_pool=row.work_pool,
        paused=bool(row.paused),
        flow_id=row.flow_id,
        created=_utc(row.created),
        updated=_utc(row.updated),
    )


def _parameter_schema(schema_in: Iterable[Mapping[str, Any]], defaults: Mapping[str, Any]) -> list[dict[str, Any]]:
    params = []
    for p in schema_in:
        entry = dict(p)
        if entry["name"] in defaults:
            entry["required"] = False
            entry["default"] = defaults[entry["name"]]
        params.append(entry)
    return params


def classic_schedule(entries: Iterable[Mapping[str, Any]], paused: bool = False) -> dict[str, Any] | None:
    """The deployment's active ``cron``/``interval`` schedules as a classic serialized
    ``Schedule`` (what the scheduler serves), or ``None``. Clocks are anchored at a fixed
    date, so deploying the same schedules again changes nothing."""
    if paused:
        return None
    from prefect_storage.core.schedules import Schedule, clocks

    found: list[Any] = []
    for entry in entries:
        if not entry.get("active", True):
            continue
        zone: datetime.tzinfo = datetime.timezone.utc
        if entry.get("timezone"):
            import zoneinfo

            zone = zoneinfo.ZoneInfo(str(entry["timezone"]))
        anchor = datetime.datetime(2020, 1, 1, tzinfo=zone)
        if entry.get("cron"):
            found.append(clocks.CronClock(str(entry["cron"]), start_date=anchor))
        elif entry.get("interval"):
            found.append(clocks.IntervalClock(datetime.timedelta(seconds=float(entry["interval"])), start_date=anchor))
    return Schedule(clocks=found).serialize() if found else None


def upsert_deployment(
    registry: Registry,
    flow_name: str,
    name: str,
    entrypoint: str,
    spec: Mapping[str, Any],
    parameter_schema: Iterable[Mapping[str, Any]] = (),
) -> tuple[DeploymentRecord, bool]:
    """Create deployment ``flow_name/name`` or update it; return ``(record, created)``.

    ``spec`` keys: ``pull_steps`` (list), ``parameters`` (defaults), ``work_pool``,
    ``work_queue``, ``job_variables``, ``tags``, ``schedules``, ``description``,
    ``version``, ``image``, ``paused``, ``enforce_parameter_schema``.
    """
    if not flow_name or not name:
        raise ValueError("A deployment needs a flow name and a deployment name.")
    spec = json.loads(json.dumps(dict(spec), default=str))  # JSON-safe, detached from the caller
    d = schema.deployments
    with registry._begin() as conn:
        row = conn.execute(sa.select(d).where(d.c.flow_name == flow_name, d.c.name == name)).first()
    deployment_id = row.id if row is not None else str(uuid.uuid4())
    full_name = f"{flow_name}/{name}"
    job_variables = dict(spec.get("job_variables") or {})
    image = spec.get("image") or job_variables.get("image")
    # the classic run config kinds the agents launch: DockerRun when the code is in an image
    run_config: dict[str, Any] = {"type": "UniversalRun", "labels": [], "env": dict(job_variables.get("env") or {})}
    work_pool = spec.get("work_pool")
    if work_pool:
        run_config["labels"] = [pool_label(work_pool)]
    run_config["labels"] = sorted({*run_config["labels"], *(spec.get("labels") or [])})
    if image:
        run_config["type"] = "DockerRun"
        run_config["image"] = image
    if job_variables.get("working_dir"):
        run_config["working_dir"] = job_variables["working_dir"]
    storage = {
        "type": STORAGE_TYPE,
        "deployment_id": deployment_id,
        "deployment_name": full_name,
        "flow_name": flow_name,
        "entrypoint": entrypoint,
        "pull_steps": list(spec.get("pull_steps") or []),
        "parameters": dict(spec.get("parameters") or {}),
        "secrets": [],
    }
    serialized = {
        "name": full_name,
        "type": "deployment",
        "parameters": _parameter_schema(parameter_schema, storage["parameters"]),
        "run_config": run_config,
        "storage": storage,
        "tags": list(spec.get("tags") or []),
        "schedules": list(spec.get("schedules") or []),
        "schedule": classic_schedule(spec.get("schedules") or [], bool(spec.get("paused"))),
    }
    key = hashlib.sha256(json.dumps(serialized, sort_keys=True).encode()).hexdigest()
    flow_record, _ = registry.add_flow_version(
        DEPLOYMENTS_PROJECT, full_name, serialized, storage, run_config["labels"], key
    )
    from prefect_storage.registry.schedules import sync_flow_schedule

    sync_flow_schedule(registry, flow_record, serialized["schedule"])  # the scheduler creates its runs
    now = utcnow()
    values = {
        "flow_id": flow_record.id,
        "entrypoint": entrypoint,
        "spec": spec,
        "work_pool": work_pool,
        "paused": bool(spec.get("paused")),
        "updated": now,
    }
    with registry._begin() as conn:
        if row is None:
            conn.execute(d.insert().values(id=deployment_id, flow_name=flow_name, name=name, created=now, **values))
        else:
            conn.execute(d.update().where(d.c.id == deployment_id).values(**values))
        fresh = conn.execute(sa.select(d).where(d.c.id == deployment_id)).one()
    return _record(fresh), row is None


def get_deployment(registry: Registry, name: str) -> DeploymentRecord:
    """Deployment ``flow/deployment``, a bare deployment name (if unique) or an id."""
    d = schema.deployments
    flow_name, sep, dep_name = name.partition("/")
    with registry._begin() as conn:
        if sep:
            rows = conn.execute(sa.select(d).where(d.c.flow_name == flow_name, d.c.name == dep_name)).all()
        else:
            rows = conn.execute(sa.select(d).where(sa.or_(d.c.name == name, d.c.id == name))).all()
    if len(rows) == 1:
        return _record(rows[0])
    if rows:
        names = sorted(f"{r.flow_name}/{r.name}" for r in rows)
        raise NotRegisteredError(f"Deployment name {name!r} is ambiguous: {names}. Use FLOW/DEPLOYMENT.")
    raise NotRegisteredError(
        f"No deployment named {name!r}. `prefect-storage deployments ls` lists them; create one with "
        "`prefect-storage deploy` or flow.deploy()."
    )


def list_deployments(registry: Registry, work_pool: str | None = None) -> list[DeploymentRecord]:
    d = schema.deployments
    query = sa.select(d).order_by(d.c.flow_name, d.c.name)
    if work_pool is not None:
        query = query.where(d.c.work_pool == work_pool)
    with registry._begin() as conn:
        return [_record(r) for r in conn.execute(query)]


def delete_deployment(registry: Registry, name: str) -> DeploymentRecord:
    """Remove the deployment; its flow row is archived (past runs and logs stay)."""
    record = get_deployment(registry, name)
    if record.flow_id is not None:
        from prefect_storage.registry.schedules import sync_flow_schedule

        sync_flow_schedule(registry, registry.get_flow(record.flow_id), None)  # its future runs go too
    f, p = schema.flows, schema.projects
    with registry._begin() as conn:
        project_id = conn.execute(sa.select(p.c.id).where(p.c.name == DEPLOYMENTS_PROJECT)).scalar()
        conn.execute(
            f.update().where(f.c.project_id == project_id, f.c.name == record.full_name).values(archived=True)
        )
        conn.execute(schema.deployments.delete().where(schema.deployments.c.id == record.id))
    return record


def create_deployment_run(
    registry: Registry, name: str, parameters: Mapping[str, Any] | None = None, labels: Iterable[str] | None = None
) -> FlowRun:
    """Schedule a run of deployment ``name`` (its default parameters, overridden by ``parameters``)."""
    record = get_deployment(registry, name)
    if record.flow_id is None:
        raise NotRegisteredError(f"Deployment {record.full_name!r} has no runnable flow version; deploy it again.")
    return registry.create_flow_run(record.flow_id, dict(parameters or {}), labels=labels)
