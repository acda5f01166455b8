"""Azurite 3.35.0 (npm, installed by scripts/setup.d/20-azurite.sh), blob service only,
in memory, on 127.0.0.1, for the Azure tests.

* ``azurite_endpoint`` — one server per session (``http://127.0.0.1:P/devstoreaccount1``);
* ``azure_container`` — sets ``AZURE_STORAGE_CONNECTION_STRING`` for the test and
  creates a fresh container.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.services._process import ServiceProcess, free_port

VERSION = "3.35.0"
ACCOUNT = "devstoreaccount1"
# Microsoft's published development key for Azurite (not a secret).
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def connection_string(blob_endpoint: str, key: str = ACCOUNT_KEY) -> str:
    return f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};BlobEndpoint={blob_endpoint};"


def azurite_binary() -> str | None:
    tools = Path(os.environ.get("PREFECT_STORAGE_TOOLS", Path.home() / ".cache" / "prefect-storage-tools"))
    candidate = tools / f"azurite-{VERSION}" / "node_modules" / ".bin" / "azurite-blob"
    if candidate.exists():
        return str(candidate)
    return shutil.which("azurite-blob")


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1)
    except urllib.error.HTTPError:
        return True  # any HTTP answer (the anonymous list is a 403) means it is up
    return True


@pytest.fixture(scope="session")
def azurite_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = azurite_binary()
    if binary is None:
        require_service(False, f"Azurite {VERSION} not installed: run `make system` (scripts/setup.d/20-azurite.sh)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("azurite")
    argv = [binary, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
            "--skipApiVersionCheck", "--disableTelemetry", "--silent"]
    with ServiceProcess("azurite", argv, workdir / "azurite.log", cwd=workdir) as service:
        service.wait_until(lambda: _answers(f"http://127.0.0.1:{port}/"), timeout=60)
        yield f"http://127.0.0.1:{port}/{ACCOUNT}"


def create_container(conn: str, name: str) -> None:
    from azure.storage.blob import BlobServiceClient

    BlobServiceClient.from_connection_string(conn).create_container(name)


@pytest.fixture
def azure_container(azurite_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    conn = connection_string(azurite_endpoint)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", conn)
    name = f"flows-{uuid.uuid4().hex[:12]}"
    create_container(conn, name)
    return name
