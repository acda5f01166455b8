"""The build context and Dockerfile that :class:`~prefect_storage.storage.docker.Docker` builds.

Pure file work, no engine: :func:`write_build_context` lays out a folder and
returns the Dockerfile text, so the layout can be unit-tested and hashed. The
Dockerfile keeps the classic order (Prefect 1.x ``create_dockerfile_object``)::

    FROM <base_image>                     (or the user's Dockerfile text)
    ENV k='v' ...                         (sorted; PREFECT__USER_CONFIG_PATH always set)
    COPY wheels /opt/prefect/wheels       (offline builds only)
    RUN python3 -m pip install --upgrade pip   (skipped offline: there is no index)
    RUN <install prefect-storage unless the base image has it>
    RUN python3 -m pip install 'dep' ...  (python_dependencies)
    RUN mkdir -p /opt/prefect/
    COPY flows/ /opt/prefect/flows/            (pickled flows, one layer; other
                                               locations get one COPY each)
    COPY <basename> <dest>                     (one per entry of `files`)
    <extra_dockerfile_commands>
    RUN python3 -m prefect_storage.storage.docker_healthcheck '<locations>' '(3, 11)'

Layers that change least come first, so a rebuild after a flow edit reuses the
dependency layers. The same inputs always give byte-identical output.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shlex
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prefect_storage.exceptions import StorageConfigError

WHEELS_DIR = "wheels"
FLOWS_DIR = "flows"
PIP = "python3 -m pip"


@dataclass
class DockerfileSpec:
    """Everything the Dockerfile depends on (see the module docstring for the order)."""

    base_image: str | None
    dockerfile_text: str | None
    env_vars: Mapping[str, str]
    prefect_requirement: str
    python_dependencies: list[str]
    prefect_directory: str
    flow_payloads: Mapping[str, bytes]  # location in the image -> pickled bytes (pickle mode)
    files: Mapping[str, str] = field(default_factory=dict)  # absolute host path -> path in the image
    dockerignore: str | None = None
    extra_dockerfile_commands: list[str] = field(default_factory=list)
    healthcheck_locations: list[str] = field(default_factory=list)
    python_version: tuple[int, int] = (3, 11)
    ignore_healthchecks: bool = False
    wheelhouse: str | None = None  # a host folder of wheels: install offline from it


def _quote_env(value: str) -> str:
    return repr(str(value))  # the classic quoting: Python repr, e.g. 'a b'


def _in_flows_folder(spec: DockerfileSpec, location: str) -> bool:
    return posixpath.dirname(location) == f"{spec.prefect_directory}/flows"


def flow_file_name(spec: DockerfileSpec, location: str) -> str:
    """The context file for the flow stored at ``location``: flows bound for the
    default folder go under ``flows/`` by their own name (copied with one ``COPY``,
    one layer); any other location gets a unique name under ``flows-extra/``."""
    stem = posixpath.basename(location.rstrip("/")) or "flow"
    if _in_flows_folder(spec, location):
        return f"{FLOWS_DIR}/{stem}"
    return f"{FLOWS_DIR}-extra/{hashlib.sha256(location.encode()).hexdigest()[:8]}-{stem}"


def install_lines(spec: DockerfileSpec) -> list[str]:
    """The pip steps: offline from the wheelhouse, or from the base image's index."""
    offline = f" --no-index --find-links {spec.prefect_directory}/{WHEELS_DIR}" if spec.wheelhouse else ""
    lines = []
    if spec.wheelhouse:
        lines.append(f"COPY {WHEELS_DIR} {spec.prefect_directory}/{WHEELS_DIR}")
    else:
        lines.append(f"RUN {PIP} install --upgrade pip")
    requirement = shlex.quote(spec.prefect_requirement)
    lines.append(f"RUN {PIP} show prefect-storage >/dev/null 2>&1 || {PIP} install{offline} {requirement}")
    if spec.python_dependencies:
        deps = " ".join(shlex.quote(dep) for dep in spec.python_dependencies)
        lines.append(f"RUN {PIP} install{offline} {deps}")
    return lines


def render_dockerfile(spec: DockerfileSpec) -> str:
    """The Dockerfile text for ``spec`` (deterministic; see the module docstring)."""
    lines = [spec.dockerfile_text.rstrip("\n") if spec.dockerfile_text else f"FROM {spec.base_image}", ""]
    env = dict(sorted(spec.env_vars.items()))
    if env:
        entries = [f"{key}={_quote_env(value)}" for key, value in env.items()]
        lines.append("ENV " + " \\\n    ".join(entries))
        lines.append("")
    lines.extend(install_lines(spec))
    lines.append(f"RUN mkdir -p {spec.prefect_directory}/")
    if any(_in_flows_folder(spec, location) for location in spec.flow_payloads):
        lines.append(f"COPY {FLOWS_DIR}/ {spec.prefect_directory}/flows/")
    for location in sorted(spec.flow_payloads):
        if not _in_flows_folder(spec, location):
            lines.append(f"COPY {flow_file_name(spec, location)} {location}")
    for source, destination in sorted(spec.files.items()):
        lines.append(f"COPY {os.path.basename(source.rstrip(os.sep))} {destination}")
    lines.extend(spec.extra_dockerfile_commands)
    if not spec.ignore_healthchecks:
        locations = json.dumps(sorted(spec.healthcheck_locations))
        version = repr(tuple(spec.python_version))
        lines.append(
            f"RUN python3 -m prefect_storage.storage.docker_healthcheck {shlex.quote(locations)} {shlex.quote(version)}"
        )
    return "\n".join(lines) + "\n"


def write_build_context(spec: DockerfileSpec, directory: str | os.PathLike[str]) -> str:
    """Fill ``directory`` with the flows, files, wheels and ``Dockerfile``; return the Dockerfile text."""
    root = Path(directory)
    for location, data in spec.flow_payloads.items():
        target = root / flow_file_name(spec, location)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for source in sorted(spec.files):
        target = root / os.path.basename(source.rstrip(os.sep))
        if target.exists():
            raise StorageConfigError(f"File {source} already exists in {root}")
        if os.path.isdir(source):
            shutil.copytree(source, target)
        elif os.path.isfile(source):
            shutil.copy2(source, target)
        else:
            raise StorageConfigError(f"File {source} listed in `files` does not exist.")
    if spec.dockerignore:
        shutil.copyfile(spec.dockerignore, root / ".dockerignore")
    if spec.wheelhouse:
        if not os.path.isdir(spec.wheelhouse):
            raise StorageConfigError(f"wheelhouse {spec.wheelhouse} is not a folder of wheels.")
        shutil.copytree(spec.wheelhouse, root / WHEELS_DIR)
    text = render_dockerfile(spec)
    (root / "Dockerfile").write_text(text)
    return text


def context_digest(directory: str | os.PathLike[str], ignore: Iterable[str] = ()) -> str:
    """A sha256 over every file's relative path and bytes: the same context, the same digest."""
    root = Path(directory)
    digest = hashlib.sha256()
    skip = set(ignore)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if relative in skip:
            continue
        digest.update(relative.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
