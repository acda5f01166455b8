"""Docker storage through the shared conformance suite, against the real test engine.

Every storage here builds a real image (offline, from the wheelhouse, on cached
layers). Out-of-band changes are made the way they would happen to a real image:
tampering and deleting commit a modified container over the same tag, and an
edited script is a rebuild under the same tag. ``get_flow`` outside the image
caches by image id, so these also prove the cache follows the image.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prefect_storage.backends import docker as backend
from prefect_storage.storage import Storage
from prefect_storage.storage.docker import Docker
from tests.conformance.suite import StorageConformance, StorageHarness
from tests.services.docker import DockerEngine

PREFIX = "conformance-"
pytestmark = pytest.mark.filterwarnings("ignore:.*registry.*:UserWarning")


class DockerHarness(StorageHarness):
    def __init__(self, tmp_path: Path, engine: DockerEngine, base_image: str, wheelhouse: Path) -> None:
        super().__init__(tmp_path)
        self.engine = engine
        self.base_image = base_image
        self.wheelhouse = wheelhouse

    def _docker(self, **kwargs: Any) -> Docker:
        kwargs.setdefault("image_name", PREFIX + uuid.uuid4().hex[:10])
        return Docker(base_image=self.base_image, local_image=True, wheelhouse=str(self.wheelhouse), **kwargs)

    def pickle_storage(self, **kwargs: Any) -> Storage:
        return self._docker(**kwargs)

    def script_storage(self, script_path: Path, **kwargs: Any) -> Storage:
        # A fixed tag: rebuilding after an edit moves the tag, as a CI pipeline would.
        return self._docker(
            stored_as_script=True, path="/opt/prefect/flows/conformance_flow.py", flow_script_path=str(script_path),
            image_tag="edge", **kwargs,
        )

    def templated_storage(self, monkeypatch: pytest.MonkeyPatch, script_path: Path | None = None) -> tuple[Storage, str]:
        monkeypatch.setenv("CONFORMANCE_DOCKER_ENGINE", self.engine.base_url)
        kwargs: dict[str, Any] = {"base_url": "${CONFORMANCE_DOCKER_ENGINE}"}
        if script_path is not None:
            return self.script_storage(script_path, **kwargs), self.engine.base_url
        return self.pickle_storage(**kwargs), self.engine.base_url

    def _commit_changed(self, storage: Docker, command: list[str] | None = None, put: tuple[str, bytes] | None = None) -> None:
        """Commit a container of ``storage``'s image, changed by ``command`` or by writing a file, over the same tag."""
        client = self.engine.client()
        container = client.create_container(storage.name, command=command or ["true"])["Id"]
        try:
            if put is not None:
                path, data = put
                folder, name = path.rsplit("/", 1)
                client.put_archive(container, folder, backend.tar_single_file(name, data))
            else:
                client.start(container)
                assert client.wait(container, timeout=60)["StatusCode"] == 0
            client.commit(container, repository=storage.repository, tag=storage.image_tag)
        finally:
            client.remove_container(container, force=True)

    def tamper(self, storage: Storage, flow_name: str) -> None:
        assert isinstance(storage, Docker)
        location = storage.flows[flow_name]
        data = bytearray(backend.read_file_from_image(self.engine.client(), storage.name, location))
        data[-1] ^= 0xFF
        self._commit_changed(storage, put=(location, bytes(data)))

    def delete(self, storage: Storage, flow_name: str) -> None:
        assert isinstance(storage, Docker)
        self._commit_changed(storage, command=["rm", storage.flows[flow_name]])


@pytest.fixture(scope="module", autouse=True)
def _remove_conformance_images(docker_engine: DockerEngine) -> Iterator[None]:
    yield
    client = docker_engine.client()
    for image in client.images():
        for tag in image.get("RepoTags") or []:
            if tag.rsplit("/", 1)[-1].startswith(PREFIX):
                client.remove_image(tag, force=True)
    client.prune_images(filters={"dangling": True})


@pytest.fixture
def harness(tmp_path: Path, docker_engine: DockerEngine, docker_base_image: str, docker_wheelhouse: Path) -> DockerHarness:
    return DockerHarness(tmp_path, docker_engine, docker_base_image, docker_wheelhouse)


class TestDockerConformance(StorageConformance):
    pass

