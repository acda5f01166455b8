"""Run a flow run inside its Docker-storage image (the launcher behind ``prefect-storage agent docker``).

It implements :class:`prefect_storage.agent.launcher.Launcher`, so the agent loop does
not care where runs execute::

    outcome = launcher.launch(spec, env, timeout)

* ``spec``: the run spec of :mod:`prefect_storage.agent.execute` (``flow_run_id``,
  ``flow_name``, ``storage`` = ``storage.serialize()``, ``parameters``, ``checkpoint``);
* ``env``: the container's whole environment: the run's own variables and its secrets
  as ``PREFECT__CONTEXT__SECRETS__<NAME>`` (see :func:`secret_environment`), never the
  agent host's environment (``isolated_environment`` is true);
* ``timeout``: seconds before the run is killed, or ``None``;
* returns a :class:`~prefect_storage.agent.launcher.LaunchOutcome` whose ``logs`` are
  the run's standard error (redacted). A run that crashed or timed out gives
  ``state == "Failed"`` with a message saying so; ``launch`` only raises for problems
  with the launcher itself (no engine, image not pullable).

:class:`DockerLauncher` runs ``python3 -m prefect_storage.agent.execute`` in a new
container of the image the storage names (pulled when missing), with the spec on
the container's standard input, the environment set on the container, and removes
the container afterwards. Inside the image ``Docker.get_flow`` reads the flow file
from the image's own disk.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from prefect_storage.agent.execute import parse_outcome
from prefect_storage.agent.launcher import LaunchOutcome
from prefect_storage.exceptions import StorageConfigError
from prefect_storage.secrets import get_logger, redact, resolve

logger = get_logger("agent.docker")

SPEC_PATH = "/tmp/prefect-storage-run-spec.json"


def secret_environment(names: Iterable[str]) -> dict[str, str]:
    """``{PREFECT__CONTEXT__SECRETS__NAME: value}`` for each secret name, resolved here
    (on the agent) through the secret chain."""
    return {f"PREFECT__CONTEXT__SECRETS__{name}": resolve(name) for name in names}


def image_for(spec: Mapping[str, Any], default_image: str | None = None) -> str:
    """The image a flow run executes in, in the classic order: the flow's Docker storage
    image, else its run config's image (``DockerRun(image=...)``, ``spec["image"]``),
    else the agent's default image. Other storages (S3, Git, ...) are loaded from inside
    that image, which must contain prefect-storage and the flow's dependencies."""
    storage = spec["storage"]
    if storage.get("type") == "Docker":
        from prefect_storage.storage import Storage

        return Storage.deserialize(storage).name
    image = spec.get("image") or default_image
    if not image:
        raise StorageConfigError(
            f"No image to run this {storage.get('type')}-storage flow in: give the flow DockerRun(image=...) or "
            "start the agent with --image (an image with prefect-storage and the flow's dependencies)."
        )
    return str(image)


class DockerLauncher:
    """Launch flow runs in containers: of their Docker-storage image, else of the image
    their run config or the agent names (see :func:`image_for`).

    Args:
        base_url: Docker engine URL; default ``$DOCKER_HOST``, else the local socket.
        tls_config: ``docker.tls.TLSConfig`` for a TLS engine.
        registry_auth_secret: secret holding ``{"username", "password"}`` JSON for pulls;
            default: the docker config.
        network_mode: container network (``"bridge"``, ``"host"``, ``"none"``...);
            default: the engine's default.
        pull: ``"missing"`` (default) pulls only when the engine lacks the image;
            ``"always"`` pulls every time.
        python: the Python command in the image.
        default_image: the image for flows whose storage is not Docker and whose run
            config names no image.
    """

    def __init__(
        self,
        base_url: str | None = None,
        tls_config: Any = False,
        registry_auth_secret: str | None = None,
        network_mode: str | None = None,
        pull: str = "missing",
        python: str = "python3",
        default_image: str | None = None,
    ) -> None:
        if pull not in ("missing", "always"):
            raise ValueError(f"pull must be 'missing' or 'always', not {pull!r}.")
        self.base_url = base_url
        self.tls_config = tls_config
        self.registry_auth_secret = registry_auth_secret
        self.network_mode = network_mode
        self.pull = pull
        self.python = python
        self.default_image = default_image
        self._client: Any = None

    isolated_environment = True

    def refusal(self, storage_type: str) -> str | None:
        if storage_type in ("Local", "Module"):
            # They name files or modules of the registering machine, which no container has.
            return (
                f"Unsupported Storage type: {storage_type}. Hint: {storage_type} storage loads from the machine the "
                "flow was registered on; run this flow with `prefect-storage agent local`."
            )
        return None

    def _api(self) -> Any:
        if self._client is None:
            from prefect_storage.backends.docker import api_client

            self._client = api_client(self.base_url, self.tls_config)
        return self._client

    def launch(self, spec: Mapping[str, Any], env: Mapping[str, str] | None = None, timeout: float | None = None) -> LaunchOutcome:
        """Run the flow run ``spec`` in a container of its image, with ``env`` as the
        container's environment; never raises for anything the flow does."""
        from prefect_storage.backends import docker as backend

        client = self._api()
        try:
            image = image_for(spec, self.default_image)
        except StorageConfigError as exc:
            return LaunchOutcome("Failed", str(exc), [], "")
        auth = backend.auth_config_from_secret(self.registry_auth_secret)
        if self.pull == "always":
            backend.pull_image(client, *backend.split_image(image), auth_config=auth)
        else:
            backend.ensure_image(client, image, auth_config=auth)
        command = f"exec {self.python} -m prefect_storage.agent.execute < {SPEC_PATH}"
        host_config = client.create_host_config(network_mode=self.network_mode) if self.network_mode else None
        container = client.create_container(
            image,
            command=["/bin/sh", "-c", command],
            environment=dict(env or {}),
            host_config=host_config,
            labels={"io.prefect-storage.flow-run-id": str(spec.get("flow_run_id") or "")},
        )
        container_id = container["Id"]
        try:
            payload = json.dumps(dict(spec)).encode()
            client.put_archive(container_id, "/tmp", backend.tar_single_file(SPEC_PATH.rsplit("/", 1)[1], payload))
            client.start(container_id)
            timed_out = False
            try:
                status = client.wait(container_id, timeout=timeout)
                exit_code = int(status.get("StatusCode", -1))
            except Exception as exc:  # requests' ReadTimeout when the run outlives `timeout`
                if not _is_timeout(exc):
                    raise
                timed_out = True
                exit_code = -1
                client.kill(container_id)
            stdout, stderr = backend.demux_logs(client, container_id)
        finally:
            client.remove_container(container_id, force=True)
        logs = redact(stderr)
        outcome = parse_outcome(stdout)
        if timed_out:
            outcome = {"state": "Failed", "message": f"Flow run timed out after {timeout} s in image {image}; killed.", "tasks": []}
        elif outcome is None:
            tail = redact("\n".join(stderr.strip().splitlines()[-5:]))
            outcome = {
                "state": "Failed",
                "message": f"Flow run crashed in image {image} (exit code {exit_code}) without reporting an outcome: {tail}",
                "tasks": [],
            }
        logger.info("Flow run %s in %s: %s", spec.get("flow_run_id"), image, outcome["state"])
        return LaunchOutcome(
            state=outcome["state"],
            message=outcome.get("message") or "",
            tasks=list(outcome.get("tasks") or []),
            logs=logs,
            exit_code=exit_code,
            timed_out=timed_out,
            results=list(outcome.get("results") or []),
        )

    def __repr__(self) -> str:
        return f"DockerLauncher(base_url={self.base_url!r}, pull={self.pull!r})"


def _is_timeout(exc: BaseException) -> bool:
    name = type(exc).__name__
    return "Timeout" in name or "timed out" in str(exc).lower()


__all__ = ["DockerLauncher", "image_for", "secret_environment"]
