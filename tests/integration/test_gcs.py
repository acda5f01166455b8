"""GCS storage against fake-gcs-server (the Go emulator from PyPI) on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prefect_storage.storage import GCS, Storage
from tests.conformance.suite import StorageConformance, StorageHarness


def gcs_bucket_handle(bucket: str):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project="test", credentials=AnonymousCredentials()).bucket(bucket)


class GCSHarness(StorageHarness):
    def __init__(self, tmp_path: Path, bucket: str) -> None:
        super().__init__(tmp_path)
        self.bucket = bucket

    def pickle_storage(self, **kwargs: Any) -> Storage:
        return GCS(self.bucket, **kwargs)

    def script_storage(self, script_path: Path, **kwargs: Any) -> Storage:
        return GCS(self.bucket, key="scripts/conformance_flow.py", stored_as_script=True,
                   local_script_path=str(script_path), **kwargs)

    def templated_storage(self, monkeypatch: pytest.MonkeyPatch, script_path: Path | None = None) -> tuple[Storage, str]:
        # The emulator takes no credentials; the project is the setting that never
        # shows up in a URL, so it is the value that must not leak.
        secret = "gcp-project-kept-private"
        monkeypatch.setenv("GCS_TEST_PROJECT", secret)
        if script_path is not None:
            return GCS(self.bucket, key="scripts/templated.py", project="${GCS_TEST_PROJECT}", stored_as_script=True,
                       local_script_path=str(script_path)), secret
        return GCS(self.bucket, project="${GCS_TEST_PROJECT}"), secret

    def tamper(self, storage: Storage, flow_name: str) -> None:
        blob = gcs_bucket_handle(self.bucket).blob(storage.flows[flow_name])
        data = bytearray(blob.download_as_bytes())
        data[-1] ^= 0xFF
        blob.upload_from_string(bytes(data))

    def delete(self, storage: Storage, flow_name: str) -> None:
        gcs_bucket_handle(self.bucket).blob(storage.flows[flow_name]).delete()


@pytest.fixture
def harness(tmp_path: Path, gcs_bucket: str) -> GCSHarness:
    return GCSHarness(tmp_path, gcs_bucket)


class TestGCSConformance(StorageConformance):
    pass
