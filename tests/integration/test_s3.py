"""S3 storage and S3Result against moto in server mode (real HTTP on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prefect_storage.storage import S3, Storage
from tests.conformance.suite import StorageConformance, StorageHarness
from tests.services.moto import s3_client


class S3Harness(StorageHarness):
    def __init__(self, tmp_path: Path, endpoint: str, bucket: str) -> None:
        super().__init__(tmp_path)
        self.endpoint = endpoint
        self.bucket = bucket
        self.options = {"endpoint_url": endpoint, "region_name": "us-east-1"}

    def pickle_storage(self, **kwargs: Any) -> Storage:
        return S3(self.bucket, client_options=self.options, **kwargs)

    def script_storage(self, script_path: Path, **kwargs: Any) -> Storage:
        return S3(self.bucket, key="scripts/conformance_flow.py", stored_as_script=True,
                  local_script_path=str(script_path), client_options=self.options, **kwargs)

    def templated_storage(self, monkeypatch: pytest.MonkeyPatch, script_path: Path | None = None) -> tuple[Storage, str]:
        secret = "s3-secret-key-for-templating"
        monkeypatch.setenv("S3_TEST_KEY_ID", "testing")
        monkeypatch.setenv("S3_TEST_SECRET_KEY", secret)
        options = {**self.options, "aws_access_key_id": "$S3_TEST_KEY_ID", "aws_secret_access_key": "${S3_TEST_SECRET_KEY}"}
        if script_path is not None:
            return S3(self.bucket, key="scripts/templated.py", stored_as_script=True,
                      local_script_path=str(script_path), client_options=options), secret
        return S3(self.bucket, client_options=options), secret

    def _key(self, storage: Storage, flow_name: str) -> str:
        return storage.flows[flow_name]

    def tamper(self, storage: Storage, flow_name: str) -> None:
        client = s3_client(self.endpoint)
        key = self._key(storage, flow_name)
        data = bytearray(client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        data[-1] ^= 0xFF
        client.put_object(Bucket=self.bucket, Key=key, Body=bytes(data))

    def delete(self, storage: Storage, flow_name: str) -> None:
        s3_client(self.endpoint).delete_object(Bucket=self.bucket, Key=self._key(storage, flow_name))


@pytest.fixture
def harness(tmp_path: Path, moto_endpoint: str, s3_bucket: str) -> S3Harness:
    return S3Harness(tmp_path, moto_endpoint, s3_bucket)


class TestS3Conformance(StorageConformance):
    pass
