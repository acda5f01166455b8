"""S3 storage and S3Result against moto in server mode (real HTTP on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prefect_storage.storage import S3, Storage
from tests.conformance.flows import FLOW_NAME, final_value, make_flow
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


# -- S3 specifics ------------------------------------------------------------------------


def test_classic_key_layout_and_nothing_uploaded_before_build(moto_endpoint: str, s3_bucket: str) -> None:
    import re

    storage = S3(s3_bucket, client_options={"endpoint_url": moto_endpoint})
    key = storage.add_flow(make_flow(name="My ETL Flow!"))
    assert re.fullmatch(r"my-etl-flow/\d{4}-\d\d-\d\dt[0-9-]+", key), key
    assert s3_client(moto_endpoint).list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0
    storage.build()
    assert s3_client(moto_endpoint).list_objects_v2(Bucket=s3_bucket)["KeyCount"] == 1


def test_literal_credentials_never_serialized_or_pickled(moto_endpoint: str, s3_bucket: str) -> None:
    import json
    import pickle

    from prefect_storage.serialization import flow_to_bytes_pickle

    secret = "literal-secret-" + "x" * 20
    options = {"endpoint_url": moto_endpoint, "aws_access_key_id": "AKIALITERAL", "aws_secret_access_key": secret}
    storage = S3(s3_bucket, client_options=options)
    flow = make_flow(value=2)
    flow.storage = storage
    storage.add_flow(flow)
    storage.build()  # the literal keys work in this process (moto accepts any)
    assert final_value(storage.get_flow(FLOW_NAME)) == 4
    assert storage.serialize()["client_options"] == {"endpoint_url": moto_endpoint}
    for text in (json.dumps(storage.serialize()), pickle.dumps(storage).decode("latin-1"),
                 flow_to_bytes_pickle(flow).decode("latin-1"), json.dumps(storage.result.serialize()),
                 pickle.dumps(storage.result).decode("latin-1"), repr(storage)):
        assert secret not in text and "AKIALITERAL" not in text


def test_upload_options_reach_put_object_and_are_not_serialized(moto_endpoint: str, s3_bucket: str) -> None:
    storage = S3(s3_bucket, key="etl.flow", client_options={"endpoint_url": moto_endpoint},
                 upload_options={"Metadata": {"team": "data"}, "ContentType": "application/x-prefect-flow"})
    storage.add_flow(make_flow())
    storage.build()
    head = s3_client(moto_endpoint).head_object(Bucket=s3_bucket, Key="etl.flow")
    assert head["Metadata"] == {"team": "data"} and head["ContentType"] == "application/x-prefect-flow"
    assert "upload_options" not in storage.serialize()


def test_script_at_key_placed_by_user_is_loaded_without_upload(moto_endpoint: str, s3_bucket: str) -> None:
    from tests.conformance.flows import flow_script

    s3_client(moto_endpoint).put_object(Bucket=s3_bucket, Key="scripts/etl.py", Body=flow_script(value=9).encode())
    storage = S3(s3_bucket, key="scripts/etl.py", stored_as_script=True, client_options={"endpoint_url": moto_endpoint})
    storage.add_flow(make_flow())
    storage.build()  # nothing to upload: the script is already there
    assert final_value(Storage.deserialize(storage.serialize()).get_flow(FLOW_NAME)) == 18


def test_aws_credentials_secret_is_used_and_named_but_never_shown(
    moto_auth_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect_storage.exceptions import StorageAuthError

    secret = "classic-secret-" + "y" * 20
    monkeypatch.setenv(
        "PREFECT__CONTEXT__SECRETS__AWS_CREDENTIALS", f'{{"ACCESS_KEY": "AKIACLASSIC", "SECRET_ACCESS_KEY": "{secret}"}}'
    )
    storage = S3("some-bucket", client_options={"endpoint_url": moto_auth_endpoint, "region_name": "us-east-1"})
    storage.add_flow(make_flow())
    with pytest.raises(StorageAuthError, match="the AWS_CREDENTIALS secret") as info:
        storage.build()
    assert secret not in str(info.value)


def test_transient_errors_are_retried_auth_errors_are_not() -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from prefect_storage.backends.s3 import is_transient

    def client_error(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")

    assert is_transient(client_error("InternalError", 500))
    assert is_transient(client_error("SlowDown", 503))
    assert is_transient(EndpointConnectionError(endpoint_url="http://x"))
    assert not is_transient(client_error("AccessDenied", 403))
    assert not is_transient(client_error("NoSuchKey", 404))


def test_get_flow_logs_the_object_version_cold_and_warm(
    moto_endpoint: str, s3_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 10 item 19: the classic "Flow successfully downloaded" line, also from the warm cache.
    import logging

    storage = S3(s3_bucket, client_options={"endpoint_url": moto_endpoint, "region_name": "us-east-1"})
    storage.add_flow(make_flow())
    storage.build()
    etag = s3_client(moto_endpoint).head_object(Bucket=s3_bucket, Key=storage.flows[FLOW_NAME])["ETag"]
    for _ in range(2):  # cold, then answered by the local cache (304)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="prefect_storage"):
            assert final_value(storage.get_flow(FLOW_NAME)) == 42
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Flow successfully downloaded")]
        assert len(lines) == 1 and f"ETag: {etag}" in lines[0] and "LastModified: None" not in lines[0]


def test_missing_flow_and_bucket_are_also_client_errors(moto_endpoint: str, s3_bucket: str) -> None:
    # Issue 10 item 15: classic code caught botocore's ClientError.
    from botocore.exceptions import ClientError

    from prefect_storage.exceptions import BucketNotFoundError, FlowNotFoundError

    options = {"endpoint_url": moto_endpoint, "region_name": "us-east-1"}
    storage = S3(s3_bucket, key="no/such/key", client_options=options)
    storage.flows[FLOW_NAME] = "no/such/key"
    with pytest.raises(ClientError) as info:
        storage.get_flow(FLOW_NAME)
    assert isinstance(info.value, FlowNotFoundError)
    assert info.value.response["Error"]["Code"] in {"NoSuchKey", "404"}
    missing_bucket = S3("no-such-bucket-xyz", key="k", client_options=options)
    missing_bucket.flows[FLOW_NAME] = "k"
    with pytest.raises(BucketNotFoundError) as info2:
        missing_bucket.get_flow(FLOW_NAME)
    assert isinstance(info2.value, ClientError)
