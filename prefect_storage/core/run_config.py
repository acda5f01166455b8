"""Run configurations: the labels (and environment) an agent needs to run a flow.

The classes and their arguments are the classic ``prefect.run_configs`` ones.
``LocalRun`` and ``DockerRun`` are launched by ``prefect-storage agent local`` /
``agent docker``; ``KubernetesRun``, ``ECSRun`` and ``VertexRun`` describe where a
flow should run and are stored with it (``serialize``/``deserialize``), so flows
using them can be built, stored and registered unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar
from urllib.parse import urlparse

__all__ = ["DockerRun", "ECSRun", "KubernetesRun", "LocalRun", "RunConfig", "UniversalRun", "VertexRun"]


def _load_yaml_text(text: str, what: str) -> Any:
    from prefect_storage.backends.optional import require

    yaml = require("yaml", extra="kubernetes", purpose=what)
    return yaml.safe_load(text)


def _local_path(path: str) -> str | None:
    """The filesystem path of ``path`` when it is local (no scheme or ``file://``), else None."""
    parsed = urlparse(path)
    if parsed.scheme in ("file", "local"):  # classic reads ``local://`` as a local file too
        return parsed.netloc + parsed.path if parsed.netloc not in ("", "localhost") else parsed.path
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return path
    return None


def _load_yaml_file(path: str, what: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return _load_yaml_text(fh.read(), what)


class RunConfig:
    """Base run config: ``labels`` an agent must carry (a set), ``env`` for the run's
    process (``None`` when not given, as in the classic API)."""

    _fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, env: Mapping[str, str] | None = None, labels: Iterable[str] | None = None) -> None:
        if isinstance(labels, str):
            labels = [labels]
        self.labels = set(labels or ())
        self.env = dict(env) if env is not None else None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: labels={sorted(self.labels)}>"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.serialize() == other.serialize()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.labels))))

    def serialize(self) -> dict[str, Any]:
        """A JSON-able dict: ``type``, ``labels`` (sorted), ``env`` and the class's own fields."""
        data: dict[str, Any] = {
            "type": type(self).__name__,
            "labels": sorted(self.labels),
            "env": dict(self.env) if self.env is not None else None,
        }
        data.update({f: getattr(self, f) for f in self._fields})
        return data

    @staticmethod
    def deserialize(data: Mapping[str, Any]) -> RunConfig:
        """Rebuild a run config from :meth:`serialize` output."""
        classes: dict[str, type[RunConfig]] = {
            c.__name__: c for c in (UniversalRun, LocalRun, DockerRun, KubernetesRun, ECSRun, VertexRun)
        }
        kind = data.get("type")
        if kind not in classes:
            raise ValueError(f"Unknown run config type {kind!r}; expected one of {sorted(classes)}.")
        cls = classes[kind]
        new = cls.__new__(cls)
        RunConfig.__init__(new, env=data.get("env"), labels=data.get("labels"))
        for field in cls._fields:
            setattr(new, field, data.get(field))
        return new


class UniversalRun(RunConfig):
    """Runs on any agent whose labels cover ``labels`` (positional ``env, labels`` allowed)."""


class LocalRun(RunConfig):
    """Runs as a local process; ``working_dir`` (made absolute) is the run's current directory."""

    _fields = ("working_dir",)

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        working_dir: str | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        super().__init__(env=env, labels=labels)
        self.working_dir = os.path.abspath(working_dir) if working_dir else None


class DockerRun(RunConfig):
    """Runs in a container of ``image`` under ``prefect-storage agent docker`` (a flow in
    Docker storage runs in its storage's image instead). ``ports`` and ``host_config``
    are kept for the container launcher."""

    _fields = ("image", "ports", "host_config")

    def __init__(
        self,
        *,
        image: str | None = None,
        env: Mapping[str, str] | None = None,
        labels: Iterable[str] | None = None,
        ports: list[int] | None = None,
        host_config: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(env=env, labels=labels)
        self.image = image
        self.ports = list(ports) if ports is not None else None
        self.host_config = dict(host_config) if host_config is not None else None


_PULL_POLICIES = ("Always", "IfNotPresent", "Never")


class KubernetesRun(RunConfig):
    """A Kubernetes job: the classic ``KubernetesRun`` arguments, stored with the flow.

    A local ``job_template_path`` is read (YAML) at construction into ``job_template``;
    a remote one (``s3://...``) is kept as a path. ``cpu_*`` become strings.
    """

    _fields = (
        "job_template_path",
        "job_template",
        "image",
        "cpu_limit",
        "cpu_request",
        "memory_limit",
        "memory_request",
        "service_account_name",
        "image_pull_secrets",
        "image_pull_policy",
    )

    def __init__(
        self,
        *,
        job_template_path: str | None = None,
        job_template: str | dict[str, Any] | None = None,
        image: str | None = None,
        env: Mapping[str, str] | None = None,
        cpu_limit: float | str | None = None,
        cpu_request: float | str | None = None,
        memory_limit: str | None = None,
        memory_request: str | None = None,
        service_account_name: str | None = None,
        image_pull_secrets: Iterable[str] | None = None,
        labels: Iterable[str] | None = None,
        image_pull_policy: str | None = None,
    ) -> None:
        super().__init__(env=env, labels=labels)
        if job_template_path is not None and job_template is not None:
            raise ValueError("Cannot provide both `job_template_path` and `job_template`")
        if job_template_path is not None:
            local = _local_path(job_template_path)
            if local is not None:
                job_template = _load_yaml_file(local, "KubernetesRun(job_template_path=...)")
                job_template_path = None
        elif isinstance(job_template, str):
            job_template = _load_yaml_text(job_template, "KubernetesRun(job_template=...)")
        if job_template is not None and not isinstance(job_template, dict):
            raise ValueError(f"`job_template` must be a mapping (YAML object), got {type(job_template).__name__}.")
        if image_pull_policy is not None and image_pull_policy not in _PULL_POLICIES:
            raise ValueError(
                f"Invalid image_pull_policy {image_pull_policy!r}.  Expected 'Always', 'IfNotPresent', or 'Never'"
            )
        self.job_template_path = job_template_path
        self.job_template = job_template
        self.image = image
        self.cpu_limit = str(cpu_limit) if cpu_limit is not None else None
        self.cpu_request = str(cpu_request) if cpu_request is not None else None
        self.memory_limit = memory_limit
        self.memory_request = memory_request
        self.service_account_name = service_account_name
        self.image_pull_secrets = list(image_pull_secrets) if image_pull_secrets is not None else None
        self.image_pull_policy = image_pull_policy


class ECSRun(RunConfig):
    """An AWS ECS task: the classic ``ECSRun`` arguments, stored with the flow.

    At most one of ``task_definition``, ``task_definition_path`` (a local one is
    YAML-loaded into ``task_definition``) and ``task_definition_arn``.
    """

    _fields = (
        "task_definition",
        "task_definition_path",
        "task_definition_arn",
        "image",
        "cpu",
        "memory",
        "task_role_arn",
        "execution_role_arn",
        "run_task_kwargs",
    )

    def __init__(
        self,
        *,
        task_definition: dict[str, Any] | None = None,
        task_definition_path: str | None = None,
        task_definition_arn: str | None = None,
        image: str | None = None,
        env: Mapping[str, str] | None = None,
        cpu: int | str | None = None,
        memory: int | str | None = None,
        task_role_arn: str | None = None,
        execution_role_arn: str | None = None,
        run_task_kwargs: dict[str, Any] | None = None,
        labels: Iterable[str] | None = None,
    ) -> None:
        super().__init__(env=env, labels=labels)
        given = [x for x in (task_definition, task_definition_path, task_definition_arn) if x is not None]
        if len(given) > 1:
            raise ValueError(
                "Can only provide one of `task_definition`, `task_definition_path`, or `task_definition_arn`"
            )
        if task_definition_arn is not None and image is not None:
            raise ValueError(
                "Cannot provide both `task_definition_arn` and `image`, since an ECS task's "
                "`image` can only be configured as part of the task definition"
            )
        if task_definition_path is not None:
            local = _local_path(task_definition_path)
            if local is not None:
                task_definition = _load_yaml_file(local, "ECSRun(task_definition_path=...)")
                task_definition_path = None
        self.task_definition = task_definition
        self.task_definition_path = task_definition_path
        self.task_definition_arn = task_definition_arn
        self.image = image
        self.cpu = str(cpu) if cpu is not None else None
        self.memory = str(memory) if memory is not None else None
        self.task_role_arn = task_role_arn
        self.execution_role_arn = execution_role_arn
        self.run_task_kwargs = run_task_kwargs


class VertexRun(RunConfig):
    """A Google Vertex AI custom job: the classic ``VertexRun`` arguments, stored with the flow."""

    _fields = ("image", "machine_type", "scheduling", "service_account", "network", "worker_pool_specs")

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        labels: Iterable[str] | None = None,
        image: str | None = None,
        machine_type: str = "e2-standard-4",
        scheduling: dict[str, Any] | None = None,
        service_account: str | None = None,
        network: str | None = None,
        worker_pool_specs: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(env=env, labels=labels)
        self.image = image
        self.machine_type = machine_type
        self.scheduling = scheduling
        self.service_account = service_account
        self.network = network
        self.worker_pool_specs = worker_pool_specs
