"""Build steps: bake the project into a Docker image and push it (on the Docker backend).

``build_docker_image(image_name, tag, dockerfile="auto")`` with ``dockerfile="auto"``
writes this Dockerfile for the current directory::

    FROM <base_image>                      (default: python:<major.minor>-slim)
    <install prefect-storage unless the base image has it>
    COPY requirements.txt ... ; RUN pip install -r requirements.txt   (when present)
    COPY . /opt/prefect/<project folder>/
    WORKDIR /opt/prefect/<project folder>/

so a deployment's ``set_working_directory: /opt/prefect/<project folder>`` pull step
finds the code. ``base_image`` and ``wheelhouse`` (a folder of wheels for offline
installs) may also come from ``$PREFECT_STORAGE_DOCKER_BASE_IMAGE`` /
``$PREFECT_STORAGE_WHEELHOUSE``.
"""

from __future__ import annotations

import logging
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from prefect_storage import config
from prefect_storage.exceptions import StorageConfigError

logger = logging.getLogger("prefect_storage.deployments.steps")

__all__ = ["auto_dockerfile", "build_docker_image", "push_docker_image"]

WORKDIR_ROOT = "/opt/prefect"


def default_base_image() -> str:
    from prefect_storage import config

    return config.docker_base_image() or f"python:{sys.version_info.major}.{sys.version_info.minor}-slim"


def auto_dockerfile(project: str, base_image: str, has_requirements: bool, wheelhouse: bool) -> str:
    """The ``dockerfile: auto`` text for the project folder named ``project``."""
    from prefect_storage.storage.docker import default_prefect_requirement
    from prefect_storage.storage.docker_context import PIP, DockerfileSpec, install_lines

    spec = DockerfileSpec(
        base_image=base_image,
        dockerfile_text=None,
        env_vars={},
        prefect_requirement=default_prefect_requirement(),
        python_dependencies=[],
        prefect_directory=WORKDIR_ROOT,
        flow_payloads={},
        wheelhouse="wheels" if wheelhouse else None,
    )
    workdir = f"{WORKDIR_ROOT}/{project}"
    # Debian-based images refuse system-wide pip installs without this (PEP 668), as the
    # classic Docker storage does too
    lines = [f"FROM {base_image}", "ENV PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1", *install_lines(spec)]
    if wheelhouse:
        lines[2] = f"COPY .prefect-storage-wheels {WORKDIR_ROOT}/wheels"
    if has_requirements:
        offline = f" --no-index --find-links {WORKDIR_ROOT}/wheels" if wheelhouse else ""
        lines.append(f"COPY requirements.txt {workdir}/requirements.txt")
        lines.append(f"RUN {PIP} install{offline} -r {shlex.quote(workdir + '/requirements.txt')}")
    lines.append(f"COPY . {workdir}/")
    lines.append(f"WORKDIR {workdir}/")
    return "\n".join(lines) + "\n"


def build_docker_image(
    image_name: str,
    dockerfile: str = "auto",
    tag: str | None = None,
    additional_tags: list[str] | None = None,
    ignore_cache: bool = False,
    credentials: Any = None,
    persist_dockerfile: bool = False,
    dockerfile_output_path: str = "Dockerfile",
    base_image: str | None = None,
    wheelhouse: str | None = None,
    **build_kwargs: Any,
) -> dict[str, Any]:
    """Build the current directory as ``image_name:tag``.

    Returns ``{"image_name", "tag", "image", "image_id", "additional_tags"}``; a later
    step refers to the image as ``{{ <step id>.image }}``.
    """
    from prefect_storage.backends import docker as backend

    if not image_name:
        raise StorageConfigError("build_docker_image: image_name is required.")
    if ":" in image_name.rsplit("/", 1)[-1] and tag is None:
        image_name, tag = image_name.rsplit(":", 1)
    tag = tag or "latest"
    image = f"{image_name}:{tag}"
    root = Path.cwd()
    wheelhouse = wheelhouse or config.wheelhouse()
    if build_kwargs.get("platform") is None:
        build_kwargs.pop("platform", None)
    client = backend.api_client()
    with tempfile.TemporaryDirectory(prefix="prefect-storage-build-") as scratch:
        context = Path(scratch) / "context"
        ignore = shutil.ignore_patterns(".git", "__pycache__", ".venv", ".prefect-storage-wheels")
        shutil.copytree(root, context, ignore=ignore, symlinks=True)
        if dockerfile == "auto":
            text = auto_dockerfile(root.name, base_image or default_base_image(), (root / "requirements.txt").is_file(), bool(wheelhouse))
            if wheelhouse:
                shutil.copytree(wheelhouse, context / ".prefect-storage-wheels")
            dockerfile_name = ".prefect-storage.Dockerfile"
            (context / dockerfile_name).write_text(text)
            if persist_dockerfile:
                (root / dockerfile_output_path).write_text(text)
        else:
            dockerfile_name = dockerfile
            if not (context / dockerfile_name).is_file():
                raise StorageConfigError(f"build_docker_image: {root / dockerfile} does not exist.")
        logger.info("Building image %s from %s", image, root)
        backend.build_image(client, str(context), image, dockerfile=dockerfile_name, nocache=ignore_cache, **build_kwargs)
    for extra in additional_tags or []:
        client.tag(image, image_name, tag=extra)
    image_id = (client.inspect_image(image) or {}).get("Id")
    return {
        "image_name": image_name,
        "tag": tag,
        "image": image,
        "image_id": image_id,
        "additional_tags": list(additional_tags or []),
    }


def push_docker_image(
    image_name: str,
    tag: str | None = None,
    credentials: Any = None,
    additional_tags: list[str] | None = None,
    ignore_output: bool = False,
) -> dict[str, Any]:
    """Push ``image_name:tag`` (and ``additional_tags``) to the registry its name
    starts with. ``credentials``: a dict or block with ``username``/``password``
    (``registry_url`` optional). Returns ``{"image_name", "tag", "image", "additional_tags"}``."""
    from prefect_storage.backends import docker as backend
    from prefect_storage.deployments.steps.push import _fields

    if ":" in image_name.rsplit("/", 1)[-1] and tag is None:
        image_name, tag = image_name.rsplit(":", 1)
    tag = tag or "latest"
    fields = _fields(credentials)
    auth = {"username": str(fields["username"]), "password": str(fields["password"])} if fields.get("username") else None
    client = backend.api_client()
    for each in [tag, *(additional_tags or [])]:
        backend.push_image(client, image_name, each, auth_config=auth)
    return {"image_name": image_name, "tag": tag, "image": f"{image_name}:{tag}", "additional_tags": list(additional_tags or [])}
