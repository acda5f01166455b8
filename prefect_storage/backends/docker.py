"""Docker engine transport: build, push, pull, read a file from an image, run a container.

Everything goes through the ``docker`` SDK, imported on first use. The engine is
found from ``base_url``, else ``$DOCKER_HOST``, else the local socket. The SDK
reports build and push failures *inside* its output stream instead of raising, so
every stream is read to the end here and an ``error`` line becomes a typed error.
Progress is shown as ``tqdm`` bars on standard error (only on a terminal).
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tarfile
from collections.abc import Iterable, Mapping
from typing import Any

from prefect_storage.backends.optional import require
from prefect_storage.exceptions import (
    BackendUnavailableError,
    FlowNotFoundError,
    ImageBuildError,  # re-exported: defined in prefect_storage.exceptions
    ImagePushError,
    StorageAuthError,
)
from prefect_storage.secrets import get_logger

logger = get_logger("backends.docker")

DEFAULT_SOCKET = "unix://var/run/docker.sock"
_AUTH_HINTS = ("unauthorized", "no basic auth credentials", "authentication required", "denied", "401")
_STEP = re.compile(r"^Step (\d+)/(\d+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def docker_sdk() -> Any:
    return require("docker", extra="docker", purpose="Docker storage")


def engine_url(base_url: str | None = None) -> str:
    """``base_url``, else ``$DOCKER_HOST``, else the local socket (the classic order)."""
    return base_url or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET


def api_client(base_url: str | None = None, tls_config: Any = False) -> Any:
    """A low-level ``docker.APIClient`` for the engine at :func:`engine_url`."""
    docker = docker_sdk()
    url = engine_url(base_url)
    try:
        return docker.APIClient(base_url=url, version="auto", tls=tls_config)
    except docker.errors.DockerException as exc:
        raise BackendUnavailableError(
            f"Cannot reach the Docker engine at {url}: {exc}. Start Docker, or set base_url / DOCKER_HOST."
        ) from None


def registry_of(repository: str) -> str | None:
    """The registry host of an image repository (``127.0.0.1:5000/flows`` -> ``127.0.0.1:5000``)."""
    first, _, rest = repository.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def auth_config_from_secret(secret_name: str | None) -> dict[str, str] | None:
    """Registry credentials from a secret holding JSON ``{"username": ..., "password": ...}``.

    ``None`` (no secret named) lets the SDK use the docker config (``~/.docker/config.json``
    or ``$DOCKER_CONFIG``), as ``docker push`` does.
    """
    if not secret_name:
        return None
    from prefect_storage.exceptions import StorageConfigError
    from prefect_storage.secrets import remember_secret, resolve

    raw = resolve(secret_name)
    try:
        value = json.loads(raw)
        auth = {"username": str(value["username"]), "password": str(value["password"])}
    except (ValueError, KeyError, TypeError):
        raise StorageConfigError(
            f"Secret {secret_name!r} must hold JSON like {{\"username\": \"...\", \"password\": \"...\"}} "
            "for registry credentials."
        ) from None
    remember_secret(auth["password"])
    return auth


def _bar(total: int | None, desc: str, unit: str = "it") -> Any:
    try:
        from tqdm import tqdm
    except ImportError:  # progress is a nicety; the stream is still read and checked
        return None
    scale = unit == "B"
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=scale, file=sys.stderr, disable=None, leave=False)


def _stream_error(line: Mapping[str, Any]) -> str | None:
    if "error" in line or "errorDetail" in line:
        detail = line.get("errorDetail") or {}
        return str(line.get("error") or detail.get("message") or line)
    return None


def build_image(
    client: Any,
    context: str,
    tag: str,
    dockerfile: str = "Dockerfile",
    rm: bool = True,
    **build_kwargs: Any,
) -> list[str]:
    """Build ``context`` as ``tag``; return the build output lines. Raises
    :class:`ImageBuildError` with the tail of the output when a step fails."""
    output: list[str] = []
    bar = None
    try:
        stream = client.build(path=context, dockerfile=dockerfile, tag=tag, rm=rm, decode=True, **build_kwargs)
        for line in stream:
            error = _stream_error(line)
            if error is not None:
                tail = "".join(output[-25:]).rstrip()
                raise ImageBuildError(f"Your docker image failed to build: {error.strip()}\n--- build output (last lines) ---\n{tail}")
            text = _ANSI.sub("", str(line.get("stream", "")))
            if text:
                output.append(text)
                logger.debug("build: %s", text.rstrip())
                step = _STEP.match(text)
                if step:
                    if bar is None:
                        bar = _bar(int(step.group(2)), f"build {tag}", "step")
                    if bar is not None:
                        bar.update(int(step.group(1)) - bar.n)
    except _sdk_errors() as exc:
        if getattr(exc, "response", None) is not None:  # the engine answered: a bad Dockerfile or context
            raise ImageBuildError(f"Your docker image failed to build: {exc}") from None
        raise BackendUnavailableError(f"Docker build of {tag} could not run: {exc}") from None
    finally:
        if bar is not None:
            bar.close()
    if not client.images(name=tag):
        raise ImageBuildError(
            "Your docker image failed to build!  Your flow might have failed one of its deployment health checks - "
            "please ensure that all necessary files and dependencies have been included."
        )
    return output


def _sdk_errors() -> tuple[type[BaseException], ...]:
    docker = docker_sdk()
    import requests

    return (docker.errors.APIError, docker.errors.DockerException, requests.exceptions.ConnectionError)


def _follow_layers(stream: Iterable[Mapping[str, Any]], action: str, target: str) -> None:
    """Consume a push/pull stream with a byte progress bar; raise on an ``error`` line."""
    layers: dict[str, tuple[int, int]] = {}
    bar = None
    try:
        for line in stream:
            error = _stream_error(line)
            if error is not None:
                if any(hint in error.lower() for hint in _AUTH_HINTS):
                    raise StorageAuthError(
                        f"The registry refused to {action} {target}: {error}. Log in with `docker login`, or give "
                        "registry credentials through a secret (registry_auth_secret)."
                    )
                if action == "pull" and ("not found" in error.lower() or "manifest unknown" in error.lower()):
                    raise FlowNotFoundError(f"Image {target} was not found in its registry: {error}")
                raise ImagePushError(f"docker {action} of {target} failed: {error}")
            progress = line.get("progressDetail") or {}
            if line.get("id") and progress.get("total"):
                layers[str(line["id"])] = (int(progress.get("current", 0)), int(progress["total"]))
                if bar is None:
                    bar = _bar(None, f"{action} {target}", "B")
                if bar is not None:
                    bar.total = sum(t for _, t in layers.values())
                    bar.n = sum(c for c, _ in layers.values())
                    bar.refresh()
    finally:
        if bar is not None:
            bar.close()


def push_image(client: Any, repository: str, tag: str, auth_config: Mapping[str, str] | None = None) -> None:
    """Push ``repository:tag``; raise :class:`StorageAuthError` / :class:`ImagePushError`
    on any error reported in the stream."""
    _transfer(client.push, "push", repository, tag, auth_config)


def pull_image(client: Any, repository: str, tag: str, auth_config: Mapping[str, str] | None = None) -> None:
    """Pull ``repository:tag`` (same error mapping as :func:`push_image`)."""
    _transfer(client.pull, "pull", repository, tag, auth_config)


def _transfer(call: Any, action: str, repository: str, tag: str, auth_config: Mapping[str, str] | None) -> None:
    target = f"{repository}:{tag}"
    try:
        stream = call(repository, tag=tag, stream=True, decode=True, auth_config=dict(auth_config) if auth_config else None)
        _follow_layers(stream, action, target)
    except _sdk_errors() as exc:
        _raise_api_error(exc, action, target)


def _raise_api_error(exc: BaseException, action: str, target: str) -> None:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    text = str(exc)
    if status in (401, 403) or any(hint in text.lower() for hint in _AUTH_HINTS):
        raise StorageAuthError(f"The registry refused to {action} {target}: {text}") from None
    if status == 404:
        raise FlowNotFoundError(f"Image {target} was not found: {text}") from None
    raise BackendUnavailableError(f"docker {action} of {target} failed: {text}") from None


def split_image(image: str) -> tuple[str, str]:
    """``repo:tag`` -> ``(repo, tag)``; a registry port is not mistaken for a tag."""
    repository, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:
        return image, "latest"
    return repository, tag


def image_exists(client: Any, image: str) -> bool:
    return bool(client.images(name=image))


def ensure_image(client: Any, image: str, auth_config: Mapping[str, str] | None = None) -> None:
    """Pull ``image`` unless the engine already has it."""
    if not image_exists(client, image):
        pull_image(client, *split_image(image), auth_config=auth_config)


def read_file_from_image(client: Any, image: str, path: str, auth_config: Mapping[str, str] | None = None) -> bytes:
    """The bytes of ``path`` inside ``image``, without running a container: the image
    is pulled if needed, a container is created (not started), the file is copied
    out with ``get_archive`` and the container is removed."""
    ensure_image(client, image, auth_config)
    docker = docker_sdk()
    container = client.create_container(image, command=["true"])
    try:
        try:
            chunks, _ = client.get_archive(container["Id"], path)
        except docker.errors.NotFound:
            raise FlowNotFoundError(f"{path} does not exist in image {image}.") from None
        archive = tarfile.open(fileobj=io.BytesIO(b"".join(chunks)))
        member = archive.next()
        extracted = archive.extractfile(member) if member is not None else None
        if extracted is None:
            raise FlowNotFoundError(f"{path} in image {image} is not a regular file.")
        return extracted.read()
    finally:
        client.remove_container(container["Id"], force=True)


def tar_single_file(name: str, data: bytes) -> bytes:
    """A tar archive holding one file, for ``put_archive``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mode = 0o644
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def demux_logs(client: Any, container_id: str) -> tuple[str, str]:
    """``(stdout, stderr)`` of a finished container."""
    out = client.logs(container_id, stdout=True, stderr=False)
    err = client.logs(container_id, stdout=False, stderr=True)
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def remove_image(client: Any, image: str) -> None:
    """Remove the local ``image`` (after a push, as the classic class did)."""
    client.remove_image(image, force=True)


def in_registry(client: Any, image: str, auth_config: Mapping[str, str] | None = None) -> bool:
    """Whether the registry already has ``image`` (one manifest request, nothing pulled);
    ``False`` when it has not, or cannot be read."""
    try:
        client.inspect_distribution(image, auth_config=dict(auth_config) if auth_config else None)
    except Exception:  # not in the registry (or not readable): the caller builds it
        return False
    return True


def image_id(client: Any, image: str) -> str:
    """The content id of the local ``image`` (it names the exact content)."""
    return str(client.inspect_image(image)["Id"])
