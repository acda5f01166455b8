"""Turn registered classic flows into deployments (``prefect-storage migrate deployments``).

Where the classic storage keeps the flow *as a script*, the deployment pulls that
source the modern way and names the script in its entrypoint:

=====================================  ===========================================  ==========================
classic storage                        pull step                                    entrypoint
=====================================  ===========================================  ==========================
``Local(stored_as_script=True)``       ``set_working_directory`` (the script dir)   ``<script>:<flow name>``
``Module("pkg.mod")``                  none                                         ``pkg.mod:<flow name>``
``Git`` / ``GitHub`` / ``GitLab`` /    ``git_clone`` (token from the same secret,   ``<flow_path>:<flow name>``
``Bitbucket`` / ``CodeCommit``         as ``{{ prefect.blocks.secret.NAME }}``)
``S3`` / ``GCS`` / ``Azure`` (script)  ``pull_from_remote_storage`` (its folder)    ``./<file>:<flow name>``
=====================================  ===========================================  ==========================

A pickled flow has no source to pull: its deployment uses the
``load_classic_flow`` step, which loads it from its classic storage at run time
(``Docker`` flows do the same inside their image). ``Webhook`` likewise. Each flow
gets a reason line saying which way it went and why.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Mapping
from typing import Any

from prefect_storage.backends.git import URL_PREFIXES as _URL_PREFIXES
from prefect_storage.deployments.steps.classic import ENTRYPOINT as CLASSIC_ENTRYPOINT

__all__ = ["MigrationPlan", "migrate_flows", "plan_for"]



@dataclasses.dataclass
class MigrationPlan:
    """What one classic flow becomes (``pull_steps``/``entrypoint``) and why."""

    flow_name: str
    storage_type: str
    entrypoint: str | None
    pull_steps: list[dict[str, Any]]
    reason: str
    image: str | None = None
    labels: list[str] = dataclasses.field(default_factory=list)
    parameter_schema: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def from_source(self) -> bool:
        return self.entrypoint != CLASSIC_ENTRYPOINT


def _secret_ref(name: str | None) -> str | None:
    # a Secret block of that name, else the classic secret chain (see blockref)
    return "{{ prefect.blocks.secret." + name + " }}" if name else None


def _classic_step(storage: Mapping[str, Any], flow_name: str) -> list[dict[str, Any]]:
    return [{"prefect_storage.deployments.steps.load_classic_flow": {"storage": dict(storage), "flow_name": flow_name}}]


def _entry(path: str, flow_name: str) -> str:
    path = path.replace("\\", "/")
    return f"{path if '/' in path or path.endswith('.py') else './' + path}:{flow_name}"


def _git_plan(storage: Mapping[str, Any], flow_name: str, kind: str) -> tuple[dict[str, Any], str] | str:
    """(git_clone inputs, path of the script in the repository) or a reason it cannot."""
    step: dict[str, Any] = {}
    if kind == "Git":
        if storage.get("git_clone_url_secret_name"):
            return "its clone URL is a secret (git_clone_url_secret_name), which a pull step cannot template safely"
        repo = str(storage.get("repo") or "")
        host = storage.get("repo_host") or "github.com"
        if storage.get("use_ssh"):
            step["repository"] = repo if repo.startswith(_URL_PREFIXES) else f"git@{host}:{repo}.git"
        else:
            step["repository"] = repo if repo.startswith(_URL_PREFIXES) else f"https://{host}/{repo}.git"
        token = storage.get("git_token_secret_name")
        if token:
            username = storage.get("git_token_username") or (repo.split("/")[0] if not repo.startswith(_URL_PREFIXES) else None)
            step["credentials"] = {"access_token": _secret_ref(token)}
            if username:
                step["credentials"]["username"] = username
        if storage.get("commit"):
            step["commit_sha"] = storage["commit"]
        elif storage.get("tag") or storage.get("branch_name"):
            step["branch"] = storage.get("tag") or storage.get("branch_name")
        path = str(storage.get("flow_path") or "")
    elif kind == "GitHub":
        base = str(storage.get("base_url") or "")
        host = "github.com" if not base or "api.github.com" in base else base.split("//", 1)[-1].split("/", 1)[0]
        step["repository"] = f"https://{host}/{storage['repo']}.git"
        if storage.get("access_token_secret"):
            step["access_token"] = _secret_ref(storage["access_token_secret"])
        if storage.get("ref"):
            step["branch"] = storage["ref"]
        path = str(storage.get("path") or "")
    elif kind == "GitLab":
        host = str(storage.get("host") or "https://gitlab.com").rstrip("/")
        host = host if host.startswith(_URL_PREFIXES) else f"https://{host}"
        step["repository"] = f"{host}/{storage['repo']}.git"
        if storage.get("access_token_secret"):
            step["credentials"] = {"username": "oauth2", "access_token": _secret_ref(storage["access_token_secret"])}
        if storage.get("ref"):
            step["branch"] = storage["ref"]
        path = str(storage.get("path") or "")
    elif kind == "Bitbucket":
        host = storage.get("host")
        if host:
            step["repository"] = f"{str(host).rstrip('/')}/scm/{storage['project']}/{storage['repo']}.git"
        else:
            step["repository"] = f"https://bitbucket.org/{storage.get('workspace') or storage['project']}/{storage['repo']}.git"
        if storage.get("access_token_secret"):
            step["access_token"] = _secret_ref(storage["access_token_secret"])
        if storage.get("ref"):
            step["branch"] = storage["ref"]
        path = str(storage.get("path") or "")
    else:  # CodeCommit
        region = ((storage.get("client_options") or {}).get("region_name")) or "us-east-1"
        step["repository"] = f"https://git-codecommit.{region}.amazonaws.com/v1/repos/{storage['repo']}"
        if storage.get("commit"):
            step["branch"] = storage["commit"]
        path = str(storage.get("path") or "")
    if not path:
        return "the storage names no script path"
    return step, path


def plan_for(flow_name: str, storage: Mapping[str, Any], serialized: Mapping[str, Any] | None = None) -> MigrationPlan:
    """How classic flow ``flow_name`` kept in ``storage`` (its ``serialize()``) becomes a deployment."""
    kind = str(storage.get("type"))
    location = (storage.get("flows") or {}).get(flow_name)
    script = bool(storage.get("stored_as_script"))
    run_config = (serialized or {}).get("run_config") or {}
    labels = list(run_config.get("labels") or [])
    schema = [
        {k: v for k, v in p.items() if k in ("name", "required", "default")} for p in (serialized or {}).get("parameters") or []
    ]

    def classic(reason: str, image: str | None = None) -> MigrationPlan:
        return MigrationPlan(flow_name, kind, CLASSIC_ENTRYPOINT, _classic_step(storage, flow_name), reason, image, labels, schema)

    def source(entrypoint: str, steps: list[dict[str, Any]], reason: str) -> MigrationPlan:
        return MigrationPlan(flow_name, kind, entrypoint, steps, reason, None, labels, schema)

    if kind == "Module":
        module = storage.get("module")
        return source(f"{module}:{flow_name}", [], f"Module storage: imports {module} where it runs (no pull)")
    if kind == "Local":
        if script and location:
            folder, file = posixpath.split(str(location).replace("\\", "/"))
            return source(
                _entry(file, flow_name),
                [{"prefect.deployments.steps.set_working_directory": {"directory": folder}}],
                f"Local script {location}: runs it in place (set_working_directory)",
            )
        return classic("Local pickle: a pickle has no source to pull, so load_classic_flow loads it from its classic storage")
    if kind in ("Git", "GitHub", "GitLab", "Bitbucket", "CodeCommit"):
        plan = _git_plan(storage, flow_name, kind)
        if isinstance(plan, str):
            return classic(f"{kind}: {plan}; load_classic_flow loads it through the classic storage instead")
        step, path = plan
        note = " (needs the AWS git credential helper where it runs)" if kind == "CodeCommit" else ""
        return source(
            _entry(path, flow_name),
            [{"prefect.deployments.steps.git_clone": step}],
            f"{kind} script {path}: cloned with git_clone{note}",
        )
    if kind in ("S3", "GCS", "Azure"):
        if not script or not location:
            return classic(f"{kind} pickle: a pickle has no source to pull, so load_classic_flow loads it from its classic storage")
        scheme = {"S3": "s3", "GCS": "gs", "Azure": "az"}[kind]
        bucket = storage.get("bucket") or storage.get("container")
        folder, file = posixpath.split(str(location))
        url = f"{scheme}://{bucket}/{folder}".rstrip("/")
        step: dict[str, Any] = {"url": url}
        if kind == "Azure" and storage.get("connection_string_secret"):
            step["connection_string"] = _secret_ref(storage["connection_string_secret"])
        if kind == "S3" and (storage.get("client_options") or {}).get("endpoint_url"):
            step["client_kwargs"] = {"endpoint_url": storage["client_options"]["endpoint_url"]}
        return source(
            _entry(file, flow_name),
            [{"prefect.deployments.steps.pull_from_remote_storage": step}],
            f"{kind} script {url}/{file}: pulled with pull_from_remote_storage (the folder {folder or '/'})",
        )
    if kind == "Docker":
        from prefect_storage.storage import Storage

        image = Storage.deserialize(dict(storage)).name
        return classic(f"Docker: the flow lives in image {image}; load_classic_flow loads it there (agent docker)", image)
    return classic(f"{kind}: no pullable source; load_classic_flow loads it from its classic storage")


def migrate_flows(
    registry: Any,
    flow: str | None = None,
    deployment_name: str = "migrated",
    work_pool_name: str | None = None,
    record: bool = True,
) -> list[tuple[MigrationPlan, Any]]:
    """Plan (and with ``record``, record) a deployment for each registered classic flow
    (or just ``flow``); return ``[(plan, record or None)]``."""
    from prefect_storage.deployments.deploy import record_deployment
    from prefect_storage.registry.deployments import DEPLOYMENTS_PROJECT

    records = [registry.find_flow(flow)] if flow else registry.list_flows()
    results = []
    for classic in records:
        if classic.project == DEPLOYMENTS_PROJECT:
            continue
        plan = plan_for(classic.name, classic.storage, classic.serialized)
        done = None
        if record:
            done = record_deployment(
                classic.name,
                deployment_name,
                str(plan.entrypoint),
                plan.pull_steps,
                parameter_schema=plan.parameter_schema,
                work_pool_name=work_pool_name,
                job_variables={"image": plan.image} if plan.image else {},
                image=plan.image,
                labels=plan.labels,
                description=f"Migrated from classic flow {classic.name!r} v{classic.version} ({plan.storage_type} storage).",
                registry=registry,
            )
        results.append((plan, done))
    return results


def write_prefect_yaml(plans: list[MigrationPlan], path: str, deployment_name: str, work_pool_name: str | None) -> None:
    """Write the plans as a ``prefect.yaml`` (one deployment per flow, each with its own pull steps)."""
    from pathlib import Path

    import yaml

    document: dict[str, Any] = {"name": "migrated-classic-flows", "build": None, "push": None, "pull": None, "deployments": []}
    for plan in plans:
        document["deployments"].append(
            {
                "name": deployment_name,
                "entrypoint": plan.entrypoint,
                "parameters": {},
                "pull": plan.pull_steps,
                "work_pool": {"name": work_pool_name, "work_queue_name": None,
                              "job_variables": {"image": plan.image} if plan.image else {}},
                "tags": ["migrated"],
                "description": plan.reason,
                "schedules": [],
            }
        )
    Path(path).write_text(
        "# Written by prefect-storage migrate deployments: one deployment per classic flow.\n"
        + yaml.safe_dump(document, sort_keys=False),
        encoding="utf-8",
    )
