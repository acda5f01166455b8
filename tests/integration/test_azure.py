"""Azure storage against Azurite (blob service, in memory) on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from prefect_storage.storage import Azure, Storage
from tests.conformance.suite import StorageConformance, StorageHarness
from tests.services.azurite import ACCOUNT_KEY


def blob_client(container: str, blob: str):
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(os.environ["AZURE_STORAGE_CONNECTION_STRING"])
    return service.get_blob_client(container, blob)


class AzureHarness(StorageHarness):
    def __init__(self, tmp_path: Path, container: str) -> None:
        super().__init__(tmp_path)
        self.container = container

    def pickle_storage(self, **kwargs: Any) -> Storage:
        return Azure(self.container, **kwargs)

    def script_storage(self, script_path: Path, **kwargs: Any) -> Storage:
        return Azure(self.container, blob_name="scripts/conformance_flow.py", stored_as_script=True,
                     local_script_path=str(script_path), **kwargs)

    def templated_storage(self, monkeypatch: pytest.MonkeyPatch, script_path: Path | None = None) -> tuple[Storage, str]:
        # The connection string comes from a named secret; its account key must never show.
        monkeypatch.setenv("AZURE_FLOWS_CONNECTION", os.environ["AZURE_STORAGE_CONNECTION_STRING"])
        monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
        if script_path is not None:
            return Azure(self.container, connection_string_secret="AZURE_FLOWS_CONNECTION", blob_name="scripts/t.py",
                         stored_as_script=True, local_script_path=str(script_path)), ACCOUNT_KEY
        return Azure(self.container, connection_string_secret="AZURE_FLOWS_CONNECTION"), ACCOUNT_KEY

    def tamper(self, storage: Storage, flow_name: str) -> None:
        blob = blob_client(self.container, storage.flows[flow_name])
        data = bytearray(blob.download_blob().readall())
        data[-1] ^= 0xFF
        blob.upload_blob(bytes(data), overwrite=True)

    def delete(self, storage: Storage, flow_name: str) -> None:
        blob_client(self.container, storage.flows[flow_name]).delete_blob()


@pytest.fixture
def harness(tmp_path: Path, azure_container: str) -> AzureHarness:
    return AzureHarness(tmp_path, azure_container)


class TestAzureConformance(StorageConformance):
    pass
