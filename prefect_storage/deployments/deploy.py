"""Record deployments: ``flow.deploy(...)`` and each entry of a ``prefect.yaml``.

Where the code comes from, in order:

* the flow came from ``flow.from_source(source, entrypoint)``: the source's pull
  step(s) (``git_clone``, ``pull_from_remote_storage``, ``pull_with_block``,
  ``set_working_directory``) and that entrypoint;
* ``image=`` is given: the current directory is baked into the image
  (``build_docker_image`` with ``dockerfile: auto``; pushed when ``push`` and the
  image name has a registry host), and the pull step is
  ``set_working_directory: /opt/prefect/<folder>``. The run happens in that image
  under ``prefect-storage agent docker``;
* otherwise (a local flow, e.g. for a process pool on this machine): the folder of
  the flow's file, with ``set_working_directory``.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import DeploymentError

if TYPE_CHECKING:
    from prefect_storage.core.modern_flow import ModernFlow

logger = logging.getLogger("prefect_storage.deployments")

__all__ = ["deploy_flow", "normalize_schedules", "record_deployment"]


def normalize_schedules(cron: Any = None, interval: Any = None, schedule: Any = None, schedules: Any = None) -> list[dict[str, Any]]:
    """Prefect's schedule arguments as ``[{"cron": ..., "timezone": ...} | {"interval": seconds}]``."""
    found: list[dict[str, Any]] = []
    crons = cron if isinstance(cron, (list, tuple)) else [cron] if cron else []
    for expression in crons:
        found.append({"cron": str(expression), "active": True})
    intervals = interval if isinstance(interval, (list, tuple)) else [interval] if interval is not None else []
    for every in intervals:
        seconds = every.total_seconds() if isinstance(every, datetime.timedelta) else float(every)
        if seconds <= 0:
            raise DeploymentError(f"A schedule interval must be positive, not {every!r}.")
        found.append({"interval": seconds, "active": True})
    for item in ([schedule] if schedule is not None else []) + list(schedules or []):
        if isinstance(item, Mapping):
            entry = {k: v for k, v in item.items() if v is not None}
            if "interval" in entry and isinstance(entry["interval"], datetime.timedelta):
                entry["interval"] = entry["interval"].total_seconds()
            if not ({"cron", "interval", "rrule"} & set(entry)):
                raise DeploymentError(f"Schedule {dict(item)!r} has no cron, interval or rrule.")
            entry.setdefault("active", True)
            found.append(entry)
        else:
            cron_expr = getattr(item, "cron", None)
            every = getattr(item, "interval", None)
            if cron_expr:
                found.append({"cron": str(cron_expr), "timezone": getattr(item, "timezone", None), "active": True})
            elif every:
                found.extend(normalize_schedules(interval=every))
            else:
                raise DeploymentError(f"Cannot read schedule {item!r}: give cron=, interval= or a dict.")
    for entry in found:
        if entry.get("cron"):
            _check_cron(str(entry["cron"]))
    return found


def _check_cron(expression: str) -> None:
    try:
        from croniter import croniter
    except ImportError:
        if len(expression.split()) not in (5, 6):
            raise DeploymentError(f"{expression!r} is not a cron expression (5 fields).") from None
        return
    if not croniter.is_valid(expression):
        raise DeploymentError(f"{expression!r} is not a valid cron expression.")


def _registry(registry: Any) -> Any:
    if registry is None or isinstance(registry, str):
        from prefect_storage.registry import Registry

        return Registry(registry)
    return registry


def record_deployment(
    flow_name: str,
    name: str,
    entrypoint: str,
    pull_steps: list[dict[str, Any]],
    *,
    parameter_schema: list[dict[str, Any]] | None = None,
    parameters: Mapping[str, Any] | None = None,
    work_pool_name: str | None = None,
    work_queue_name: str | None = None,
    job_variables: Mapping[str, Any] | None = None,
    tags: list[str] | None = None,
    schedules: list[dict[str, Any]] | None = None,
    description: str | None = None,
    version: str | None = None,
    paused: bool = False,
    image: str | None = None,
    enforce_parameter_schema: bool = True,
    labels: list[str] | None = None,
    registry: Any = None,
) -> Any:
    """Write the deployment to the registry; return its :class:`DeploymentRecord`."""
    from prefect_storage.registry.deployments import upsert_deployment

    spec = {
        "pull_steps": pull_steps,
        "parameters": dict(parameters or {}),
        "work_pool": work_pool_name,
        "work_queue": work_queue_name,
        "job_variables": dict(job_variables or {}),
        "tags": list(tags or []),
        "schedules": list(schedules or []),
        "description": description,
        "version": version,
        "paused": paused,
        "image": image,
        "enforce_parameter_schema": enforce_parameter_schema,
        "labels": sorted(set(labels or [])),
    }
    reg = _registry(registry)
    record, created = upsert_deployment(reg, flow_name, name, entrypoint, spec, parameter_schema or [])
    logger.info("%s deployment %s", "Created" if created else "Updated", record.full_name)
    return record


def _source_file(flow: ModernFlow) -> Path:
    import inspect

    try:
        path = inspect.getsourcefile(flow.fn)
    except TypeError:
        path = None
    if not path:
        raise DeploymentError(
            f"Flow {flow.name!r} is not defined in a file, so there is no code to deploy: use "
            "flow.from_source(source, entrypoint) or define it in a .py file."
        )
    return Path(path).resolve()


def _entry_name(flow: ModernFlow) -> str:
    return getattr(flow.fn, "__name__", flow.name)


def _has_registry_host(image: str) -> bool:
    first = image.split("/", 1)[0]
    return "/" in image and ("." in first or ":" in first or first == "localhost")


def deploy_flow(
    flow: ModernFlow,
    name: str,
    work_pool_name: str | None = None,
    image: Any = None,
    build: bool = True,
    push: bool = True,
    parameters: dict[str, Any] | None = None,
    job_variables: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    description: str | None = None,
    version: str | None = None,
    cron: Any = None,
    interval: Any = None,
    schedule: Any = None,
    paused: bool = False,
    work_queue_name: str | None = None,
    print_next_steps: bool = True,
    registry: Any = None,
) -> str:
    """Record deployment ``name`` of ``flow`` (see the module docstring); return its id."""
    from prefect_storage.deployments.source import pull_step_of

    if not name or "/" in name:
        raise DeploymentError(f"Deployment name {name!r} must be non-empty and contain no '/'.")
    job_variables = dict(job_variables or {})
    image_ref: str | None = None
    if flow._storage is not None:
        pull_steps = pull_step_of(flow._storage)
        entrypoint = str(flow._entrypoint)
        if image is not None:
            image_ref = _image_name(image)
    elif image is not None:
        image_ref = _image_name(image)
        root = Path.cwd().resolve()
        path = _source_file(flow)
        try:
            entrypoint = f"{path.relative_to(root).as_posix()}:{_entry_name(flow)}"
        except ValueError:
            raise DeploymentError(
                f"Flow file {path} is outside the current directory {root}, which is what goes into the image: "
                "run deploy from the project folder."
            ) from None
        if build:
            from prefect_storage.deployments.steps.build import build_docker_image

            built = build_docker_image(image_ref, dockerfile=getattr(image, "dockerfile", "auto"))
            image_ref = built["image"]
        if push and build:
            if _has_registry_host(image_ref):
                from prefect_storage.deployments.steps.build import push_docker_image

                push_docker_image(image_ref)
            else:
                logger.warning("Image %s names no registry host, so it was not pushed (agents on this machine can run it).", image_ref)
        from prefect_storage.deployments.steps.build import WORKDIR_ROOT

        pull_steps = [{"prefect.deployments.steps.set_working_directory": {"directory": f"{WORKDIR_ROOT}/{root.name}"}}]
    else:
        path = _source_file(flow)
        entrypoint = f"{path.name}:{_entry_name(flow)}"
        pull_steps = [{"prefect.deployments.steps.set_working_directory": {"directory": str(path.parent)}}]
    if image_ref:
        job_variables.setdefault("image", image_ref)
    record = record_deployment(
        flow.name,
        name,
        entrypoint,
        pull_steps,
        parameter_schema=flow.parameter_schema(),
        parameters=parameters,
        work_pool_name=work_pool_name,
        work_queue_name=work_queue_name,
        job_variables=job_variables,
        tags=tags,
        schedules=normalize_schedules(cron, interval, schedule),
        description=description if description is not None else flow.description,
        version=version if version is not None else flow.version,
        paused=paused,
        image=image_ref,
        registry=registry,
    )
    if print_next_steps:
        print(f"Successfully created/updated deployment '{record.full_name}' (id {record.id}).")
        print(f"To schedule a run for this deployment, use: prefect-storage deployments run '{record.full_name}'")
        if work_pool_name:
            kind = "docker" if image_ref else "local"
            print(f"Start an agent for it with: prefect-storage agent {kind} --pool '{work_pool_name}'")
    return str(record.id)


def _image_name(image: Any) -> str:
    if isinstance(image, str):
        return image
    name = getattr(image, "name", None) or getattr(image, "image_name", None)
    tag = getattr(image, "tag", None)
    if not name:
        raise DeploymentError(f"image must be a name like 'repo/name:tag' or a DockerImage, not {image!r}.")
    return f"{name}:{tag}" if tag else str(name)
