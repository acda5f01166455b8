"""``Docker`` storage: flows baked into an image, healthchecked at build, pushed to a registry."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
import warnings
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import FlowNotFoundError, StorageConfigError
from prefect_storage.secrets import render
from prefect_storage.storage.base import Storage, flow_slug, timestamp_slug

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow


def default_prefect_requirement() -> str:
    """The pip requirement that installs this version of prefect-storage in the image."""
    from prefect_storage._version import __version__

    return f"prefect-storage=={__version__}"


# Added to the image's environment (not to ``env_vars``, which is the user's): Debian-style
# Pythons are "externally managed" (PEP 668), so pip must be allowed to install into them.
_BUILD_ENV = {"PIP_BREAK_SYSTEM_PACKAGES": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


class Docker(Storage):
    """Bake flows into a Docker image, check they load inside it, push it to a registry.

    ``build()`` writes a build context (flows, ``files``, optional wheels), generates a
    Dockerfile (see :mod:`prefect_storage.storage.docker_context` for its exact
    layout), builds it, runs a healthcheck *during the build* that loads every flow
    the way an agent will (failing the build on a Python mismatch, a missing module
    or an unloadable flow), then pushes the image to ``registry_url``.

    Agents run flows in the image :attr:`name`; there ``get_flow`` reads the flow file
    from the image's own disk. Anywhere else ``get_flow`` copies the flow file out of
    the image (pulled if needed) without running a container.

    Args:
        registry_url: registry to push to, e.g. ``"registry.example.com/team"``;
            without one the image stays local.
        base_image: image to build ``FROM``; default ``python:<this python>-slim``.
        dockerfile: path of a Dockerfile to start from instead of ``base_image``.
        dockerignore: a ``.dockerignore`` file for the build context (applies to ``files``).
        python_dependencies: pip requirements to install in the image (``"wheel"`` is
            added, as classic did).
        image_name: default: the slug of the flow name for one flow, else a random name
            (with ``content_tag``: a name derived from the flow names).
        image_tag: default: a UTC timestamp slug (classic), or the content digest
            with ``content_tag=True``.
        env_vars: environment of the image; ``PREFECT__USER_CONFIG_PATH`` is added unless
            given. The image also gets ``PIP_BREAK_SYSTEM_PACKAGES=1`` and
            ``PIP_DISABLE_PIP_VERSION_CHECK=1`` (unless given), not shown in ``env_vars``.
        files: ``{absolute host path: path in the image}`` to copy in.
        prefect_version: pip requirement (or version) of prefect-storage to install;
            default this version; skipped when the base image already has it.
        local_image: ``base_image`` is local; do not pull it.
        ignore_healthchecks: do not run the healthcheck during the build.
        base_url: Docker engine URL; default ``$DOCKER_HOST``, else the local socket.
        tls_config: ``docker.tls.TLSConfig`` (or ``True``) for a TLS engine.
        build_kwargs: extra arguments for the SDK's ``APIClient.build`` (``rm`` included).
        prefect_directory: where flows and helper files live in the image.
        path: location of the flow in the image (required in script mode).
        stored_as_script: the flow is a ``.py`` script at ``path`` in the image.
        flow_script_path: host path of the script to copy to ``path`` (script mode;
            or list it in ``files``).
        extra_dockerfile_commands: Dockerfile lines added before the healthcheck.
        wheelhouse: a host folder of wheels (prefect-storage and every dependency):
            pip installs from it with ``--no-index``, so builds need no network.
        content_tag: tag images with a digest of the build context, so an unchanged
            flow reuses its image instead of making a new one.
        registry_auth_secret: name of a secret holding ``{"username", "password"}``
            JSON for the registry; default: the docker config (``docker login``).
        keep_local_image: keep the image after pushing (classic: removed).
    """

    _serialized_fields = (
        "registry_url",
        "image_name",
        "image_tag",
        "path",
        "stored_as_script",
        "prefect_directory",
        "prefect_version",
        "base_url",
        "registry_auth_secret",
    )
    _transient_attributes = ("_client", "build_output")

    def __init__(
        self,
        registry_url: str | None = None,
        base_image: str | None = None,
        dockerfile: str | None = None,
        dockerignore: str | None = None,
        python_dependencies: list[str] | None = None,
        image_name: str | None = None,
        image_tag: str | None = None,
        env_vars: Mapping[str, str] | None = None,
        files: Mapping[str, str] | None = None,
        prefect_version: str | None = None,
        local_image: bool = False,
        ignore_healthchecks: bool = False,
        base_url: str | None = None,
        tls_config: Any = False,
        build_kwargs: Mapping[str, Any] | None = None,
        prefect_directory: str = "/opt/prefect",
        path: str | None = None,
        stored_as_script: bool = False,
        extra_dockerfile_commands: list[str] | None = None,
        flow_script_path: str | None = None,
        wheelhouse: str | os.PathLike[str] | None = None,
        content_tag: bool = False,
        registry_auth_secret: str | None = None,
        keep_local_image: bool = False,
        **kwargs: Any,
    ) -> None:
        if base_image and dockerfile:
            raise StorageConfigError("Only one of `base_image` and `dockerfile` can be provided.")
        files = dict(files or {})
        relative = sorted(p for p in files if not os.path.isabs(p))
        if relative:
            shown = "{" + ", ".join(relative) + "}"
            raise StorageConfigError(
                f"Provided paths {shown} are not absolute file paths, please provide absolute paths only."
            )
        self.registry_url = registry_url
        self.dockerfile = dockerfile
        self.base_image = base_image or (None if dockerfile else "python:{}.{}-slim".format(*sys.version_info[:2]))
        self.dockerignore = dockerignore
        self.python_dependencies = list(python_dependencies or [])  # never the caller's list
        if "wheel" not in self.python_dependencies:
            self.python_dependencies.append("wheel")  # classic: always installed
        self.image_name = image_name
        self.image_tag = image_tag
        self.env_vars = dict(env_vars or {})
        self.env_vars.setdefault("PREFECT__USER_CONFIG_PATH", f"{prefect_directory}/config.toml")
        self.files = files
        self.prefect_version = prefect_version
        self.local_image = local_image
        self.ignore_healthchecks = ignore_healthchecks
        self._base_url_given = base_url
        self.tls_config = tls_config
        self.build_kwargs = dict(build_kwargs or {})
        self.prefect_directory = prefect_directory
        self.path = path
        self.extra_dockerfile_commands = list(extra_dockerfile_commands or [])
        self.flow_script_path = flow_script_path
        self.wheelhouse = os.fspath(wheelhouse) if wheelhouse is not None else None
        self.content_tag = content_tag
        self.registry_auth_secret = registry_auth_secret
        self.keep_local_image = keep_local_image
        #: the build output of the last ``build()`` (lines), for inspection
        self.build_output: list[str] = []
        self._tag_from_content = False
        super().__init__(stored_as_script=stored_as_script, **kwargs)

    # -- identity -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The Docker engine URL: the one given, else ``$DOCKER_HOST``, else the platform's
        local socket (classic). Only a given value is serialized: an agent elsewhere
        uses its own engine."""
        given = getattr(self, "_base_url_given", None)
        if given:
            return given
        default = "npipe:////./pipe/docker_engine" if sys.platform == "win32" else "unix://var/run/docker.sock"
        return os.environ.get("DOCKER_HOST", default)

    @base_url.setter
    def base_url(self, value: str | None) -> None:
        self._base_url_given = value

    def serialize(self) -> dict[str, Any]:
        data = super().serialize()
        data["base_url"] = self._base_url_given
        return data

    @property
    def name(self) -> str:
        """The full image name, ``[registry_url/]image_name:image_tag``."""
        if self.image_name is None or self.image_tag is None:
            raise StorageConfigError("Docker storage is missing required fields image_name and image_tag")
        return f"{PurePosixPath(self.registry_url or '', self.image_name)}:{self.image_tag}"

    @property
    def repository(self) -> str:
        """The image name without its tag."""
        return str(PurePosixPath(self.registry_url or "", self.image_name or ""))

    # -- the contract -------------------------------------------------------------------

    def _location_for(self, flow: Flow) -> str:
        # Classic: script mode without `path` is refused when the Dockerfile is made, not here.
        return self.path or f"{self.prefect_directory}/flows/{flow_slug(flow.name)}.prefect"

    def _generated_location(self, location: str) -> bool:
        return not self.path

    def build(self, push: bool = True) -> Docker:  # type: ignore[override]
        """Build the image (healthchecked), push it when ``push`` and ``registry_url``;
        return ``self``. With ``content_tag`` an unchanged image is not rebuilt."""
        from prefect_storage.backends import docker as backend

        absent = sorted(set(self.flows) - set(self._flows))
        if absent and not self.stored_as_script:
            raise StorageConfigError(
                f"Flows {absent} were not added to this storage object (it was deserialized?); add_flow() them "
                "before build() so they can be baked into the image."
            )
        self._check_script_path()
        if self.stored_as_script and not (self.flow_script_path or self.path in self.files.values()):
            raise StorageConfigError(
                f"Script mode copies no script by itself: give flow_script_path= (the host file copied to {self.path}) "
                "or list the file in `files`."
            )
        if self.image_name is None:
            names = sorted(self.flows)
            if len(names) == 1:
                self.image_name = flow_slug(names[0])
            elif self.content_tag:
                self.image_name = "flows-" + flow_slug("-".join(names))[:40]
            else:
                self.image_name = str(uuid.uuid4())
        if push and not self.registry_url:
            warnings.warn("This Docker storage object has no `registry_url`, and will not be pushed.", UserWarning, stacklevel=2)
        client = self._api()
        auth = backend.auth_config_from_secret(self.registry_auth_secret)
        with tempfile.TemporaryDirectory(prefix="prefect-docker-", dir=self._context_parent()) as context:
            from prefect_storage.storage import docker_context

            docker_context.write_build_context(self._dockerfile_spec(), context)
            if self.content_tag and (self.image_tag is None or self._tag_from_content):
                self.image_tag = docker_context.context_digest(context)[:16]
                self._tag_from_content = True
            elif self.image_tag is None:
                self.image_tag = timestamp_slug()
            pushing = bool(push and self.registry_url)
            if self.content_tag and self._already_built(client, auth, pushing):
                self.logger.info("Image %s is unchanged; reusing it.", self.name)
                return self
            if not self.local_image and self.base_image:
                backend.ensure_image(client, self.base_image) if self.content_tag else backend.pull_image(
                    client, *backend.split_image(self.base_image)
                )
            kwargs = dict(self.build_kwargs)
            rm = kwargs.pop("rm", True)
            self.build_output = backend.build_image(client, context, self.name, rm=rm, **kwargs)
        if pushing:
            backend.push_image(client, self.repository, str(self.image_tag), auth_config=auth)
            if not self.keep_local_image:
                client.remove_image(self.name, force=True)
        return self

    def _already_built(self, client: Any, auth: Mapping[str, str] | None, pushing: bool) -> bool:
        from prefect_storage.backends import docker as backend

        if backend.image_exists(client, self.name):
            if pushing:
                backend.push_image(client, self.repository, str(self.image_tag), auth_config=auth)
            return True
        if pushing:
            try:
                client.inspect_distribution(self.name, auth_config=dict(auth) if auth else None)
                return True
            except Exception:  # not in the registry (or not readable): build it
                return False
        return False

    def _context_parent(self) -> str | None:
        return os.path.dirname(os.path.abspath(self.dockerfile)) if self.dockerfile else None

    def _check_script_path(self) -> None:
        if self.stored_as_script and not self.path:
            raise StorageConfigError("A `path` must be provided to show where flow `.py` file is stored in the image.")

    def _dockerfile_spec(self) -> Any:
        from prefect_storage.storage.docker_context import DockerfileSpec

        self._check_script_path()

        payloads: dict[str, bytes] = {}
        if not self.stored_as_script:
            from prefect_storage.serialization.flow_pickle import flow_to_bytes_pickle

            payloads = {self.flows[name]: flow_to_bytes_pickle(flow) for name, flow in self._flows.items()}
        files = dict(self.files)
        if self.stored_as_script and self.flow_script_path and self.path not in files.values():
            files[os.path.abspath(self.flow_script_path)] = str(self.path)
        text = None
        if self.dockerfile:
            with open(self.dockerfile, encoding="utf-8") as fh:
                text = fh.read()
        requirement = self.prefect_version or default_prefect_requirement()
        if requirement[:1].isdigit():
            requirement = f"prefect-storage=={requirement}"
        return DockerfileSpec(
            base_image=self.base_image,
            dockerfile_text=text,
            env_vars={**_BUILD_ENV, **self.env_vars},
            prefect_requirement=requirement,
            python_dependencies=self.python_dependencies,
            prefect_directory=self.prefect_directory,
            flow_payloads=payloads,
            files=files,
            dockerignore=self.dockerignore,
            extra_dockerfile_commands=self.extra_dockerfile_commands,
            healthcheck_locations=sorted(set(self.flows.values())),
            python_version=tuple(sys.version_info[:2]),  # type: ignore[arg-type]
            ignore_healthchecks=self.ignore_healthchecks,
            wheelhouse=self.wheelhouse,
        )

    def create_dockerfile_object(self, directory: str) -> str:
        """Write the build context into ``directory`` and return the Dockerfile's path (classic name)."""
        from prefect_storage.storage.docker_context import write_build_context

        write_build_context(self._dockerfile_spec(), directory)
        return os.path.join(directory, "Dockerfile")

    # -- loading ----------------------------------------------------------------------

    def pull_image(self) -> None:
        """Pull :attr:`base_image` from its registry (classic public method)."""
        from prefect_storage.backends import docker as backend

        if not self.base_image:
            raise StorageConfigError("This Docker storage builds from a `dockerfile`; there is no base_image to pull.")
        backend.pull_image(self._api(), *backend.split_image(self.base_image))

    def push_image(self, image_name: str, image_tag: str) -> None:
        """Push ``image_name:image_tag`` to its registry (classic public method), with the
        credentials of ``registry_auth_secret`` or the docker config."""
        from prefect_storage.backends import docker as backend

        self.logger.info("Pushing image to the registry...")
        auth = backend.auth_config_from_secret(self.registry_auth_secret)
        backend.push_image(self._api(), image_name, image_tag, auth_config=auth)

    def _api(self) -> Any:
        client = getattr(self, "_client", None)
        if client is None:
            from prefect_storage.backends.docker import api_client

            given = getattr(self, "_base_url_given", None)
            client = self._client = api_client(render(given) if given else None, self.tls_config)
        return client

    def _read(self, location: str) -> bytes:
        if os.path.isfile(location):  # inside the image: the agent path
            with open(location, "rb") as fh:
                return fh.read()
        if self.image_name is None or self.image_tag is None:
            raise FlowNotFoundError(f"{location} is not on this machine and the storage names no image to read it from.")
        from prefect_storage.backends import docker as backend
        from prefect_storage.backends.cache import PayloadCache

        client = self._api()
        auth = backend.auth_config_from_secret(self.registry_auth_secret)
        backend.ensure_image(client, self.name, auth_config=auth)
        # The image id names the exact content: a cached copy of the same id is the same file.
        image_id = str(client.inspect_image(self.name)["Id"])
        cache, key = PayloadCache("docker"), f"{self.name}@{location}"
        cached = cache.get(key)
        if cached is not None and cached[0] == image_id:
            return cached[1]
        data = backend.read_file_from_image(client, self.name, location, auth_config=auth)
        cache.put(key, image_id, data)
        return data

    def _load_script(self, flow_name: str, location: str) -> Flow:
        from prefect_storage.serialization.extract import extract_flow_from_file

        inside = os.path.isfile(location)
        return extract_flow_from_file(
            file_contents=self._read(location), file_path=location if inside else None, flow_name=flow_name
        )

    def _describe(self, location: str) -> str:
        try:
            return f"{location} in image {self.name}"
        except StorageConfigError:
            return location
