"""GCS storage against fake-gcs-server (the Go emulator from PyPI) on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prefect_storage.storage import GCS, Storage
from tests.conformance.flows import make_flow
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


# -- GCS specifics -----------------------------------------------------------------------


def test_invalid_gcp_credentials_secret_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.exceptions import StorageConfigError

    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__GCP_CREDENTIALS", '{"type": "service_account"}')
    storage = GCS("some-bucket")
    storage.add_flow(make_flow())
    with pytest.raises(StorageConfigError, match="GCP_CREDENTIALS must hold a service account key"):
        storage.build()


def test_project_and_key_are_serialized_script_path_is_not(gcs_bucket: str, tmp_path: Path) -> None:
    storage = GCS(gcs_bucket, key="k.py", project="proj", stored_as_script=True, local_script_path=str(tmp_path / "f.py"))
    data = storage.serialize()
    assert {k: data[k] for k in ("bucket", "key", "project", "stored_as_script")} == {
        "bucket": gcs_bucket, "key": "k.py", "project": "proj", "stored_as_script": True}
    assert "local_script_path" not in data


def test_missing_script_file_is_a_clear_error(gcs_bucket: str, tmp_path: Path) -> None:
    from prefect_storage.exceptions import StorageConfigError

    storage = GCS(gcs_bucket, stored_as_script=True, local_script_path=str(tmp_path / "missing.py"))
    storage.add_flow(make_flow())
    with pytest.raises(StorageConfigError, match="Cannot read local_script_path"):
        storage.build()
