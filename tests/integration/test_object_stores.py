"""S3, GCS and Azure beyond the conformance suite, each against its emulator:
warm loads without payload, re-download of a changed object, the agent path,
a server dying mid-build, wrong credentials, a missing bucket/container, results."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prefect_storage.agent.execute import parse_outcome
from prefect_storage.core.flow import Flow
from prefect_storage.exceptions import (
    BackendUnavailableError,
    BucketNotFoundError,
    FlowNotFoundError,
    FlowStorageError,
    StorageAuthError,
    StorageConfigError,
)
from prefect_storage.results.base import Result
from prefect_storage.storage import GCS, S3, Azure, Storage
from tests.conformance.flows import FLOW_NAME, final_value, make_flow
from tests.services._proxy import CountingProxy
from tests.services.azurite import connection_string

REPO_ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = 1024 * 1024


def big_flow(name: str = FLOW_NAME, value: int = 21, size: int = PAYLOAD) -> Flow:
    """A flow whose pickle carries ``size`` incompressible bytes."""
    blob = os.urandom(size)
    flow = make_flow(name=name, value=value)
    flow.ballast = blob  # pickled with the flow
    return flow


class Backend:
    """One object store as these tests drive it."""

    name = ""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch

    def port(self) -> int:
        raise NotImplementedError

    def route_through(self, url: str | None) -> None:
        """Send this backend's traffic to ``url`` (a proxy), or straight to the emulator."""
        self.via = url

    def storage(self, **kwargs: Any) -> Storage:
        raise NotImplementedError

    def direct(self, storage: Storage) -> Storage:
        """A copy of ``storage`` (through its serialized form) that talks to the emulator itself."""
        self.route_through(None)
        return Storage.deserialize(storage.serialize())

    def result(self, **kwargs: Any) -> Result:
        raise NotImplementedError

    def missing_container_storage(self) -> Storage:
        raise NotImplementedError

    def wrong_credentials_storage(self) -> tuple[Storage, str, str]:
        """``(storage, secret that must not show, credential source the error names)``."""
        raise NotImplementedError


class S3Backend(Backend):
    name = "s3"

    def __init__(self, monkeypatch: pytest.MonkeyPatch, endpoint: str, bucket: str, auth_endpoint: Any) -> None:
        super().__init__(monkeypatch)
        self.endpoint, self.bucket, self.auth_endpoint = endpoint, bucket, auth_endpoint
        self.via: str | None = None

    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    def _options(self) -> dict[str, Any]:
        return {"endpoint_url": self.via or self.endpoint, "region_name": "us-east-1"}

    def storage(self, **kwargs: Any) -> Storage:
        return S3(self.bucket, client_options=self._options(), **kwargs)

    def direct(self, storage: Storage) -> Storage:
        data = storage.serialize()
        data["client_options"] = {**data["client_options"], "endpoint_url": self.endpoint}
        return Storage.deserialize(data)

    def result(self, **kwargs: Any) -> Result:
        from prefect_storage.results import S3Result

        return S3Result(self.bucket, boto3_kwargs=self._options(), **kwargs)

    def missing_container_storage(self) -> Storage:
        return S3("no-such-bucket-" + uuid.uuid4().hex[:8], client_options=self._options())

    def wrong_credentials_storage(self) -> tuple[Storage, str, str]:
        secret = "wrong-secret-" + uuid.uuid4().hex
        options = {"endpoint_url": self.auth_endpoint(), "region_name": "us-east-1",
                   "aws_access_key_id": "AKIAWRONGWRONGWRONG1", "aws_secret_access_key": secret}
        return S3("any-bucket", client_options=options), secret, "keys in client_options"


class GCSBackend(Backend):
    name = "gcs"

    def __init__(self, monkeypatch: pytest.MonkeyPatch, endpoint: str, bucket: str) -> None:
        super().__init__(monkeypatch)
        self.endpoint, self.bucket = endpoint, bucket

    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    def route_through(self, url: str | None) -> None:
        self.monkeypatch.setenv("STORAGE_EMULATOR_HOST", url or self.endpoint)

    def storage(self, **kwargs: Any) -> Storage:
        return GCS(self.bucket, **kwargs)

    def result(self, **kwargs: Any) -> Result:
        from prefect_storage.results import GCSResult

        return GCSResult(self.bucket, **kwargs)

    def missing_container_storage(self) -> Storage:
        return GCS("no-such-bucket-" + uuid.uuid4().hex[:8])

    def wrong_credentials_storage(self) -> tuple[Storage, str, str]:
        # The emulator checks no credentials, so this is the client-side path: ADC
        # pointing at a key file that is not there.
        self.monkeypatch.delenv("STORAGE_EMULATOR_HOST")
        missing = f"/nonexistent/key-{uuid.uuid4().hex}.json"
        self.monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", missing)
        return GCS("any-bucket", project="p"), "no-secret-here-" + uuid.uuid4().hex, "Application Default Credentials"


class AzureBackend(Backend):
    name = "azure"

    def __init__(self, monkeypatch: pytest.MonkeyPatch, endpoint: str, container: str) -> None:
        super().__init__(monkeypatch)
        self.endpoint, self.container = endpoint, container

    def port(self) -> int:
        return int(self.endpoint.split("/")[2].rsplit(":", 1)[1])

    def route_through(self, url: str | None) -> None:
        target = f"{url}/devstoreaccount1" if url else self.endpoint
        self.monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection_string(target))

    def storage(self, **kwargs: Any) -> Storage:
        return Azure(self.container, **kwargs)

    def result(self, **kwargs: Any) -> Result:
        from prefect_storage.results import AzureResult

        return AzureResult(self.container, **kwargs)

    def missing_container_storage(self) -> Storage:
        return Azure("no-such-container-" + uuid.uuid4().hex[:8])

    def wrong_credentials_storage(self) -> tuple[Storage, str, str]:
        import base64

        wrong_key = base64.b64encode(os.urandom(64)).decode()
        self.monkeypatch.setenv("AZURE_WRONG_CONNECTION", connection_string(self.endpoint, key=wrong_key))
        return Azure(self.container, connection_string_secret="AZURE_WRONG_CONNECTION"), wrong_key, "AZURE_WRONG_CONNECTION"


@pytest.fixture(params=["s3", "gcs", "azure"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Backend:
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = request.getfixturevalue("s3_bucket")
        return S3Backend(monkeypatch, endpoint, bucket, lambda: request.getfixturevalue("moto_auth_endpoint"))
    if request.param == "gcs":
        bucket = request.getfixturevalue("gcs_bucket")
        return GCSBackend(monkeypatch, request.getfixturevalue("gcs_endpoint"), bucket)
    container = request.getfixturevalue("azure_container")
    return AzureBackend(monkeypatch, request.getfixturevalue("azurite_endpoint"), container)


@pytest.fixture
def proxy(backend: Backend) -> Iterator[CountingProxy]:
    p = CountingProxy(backend.port())
    backend.route_through(p.url)
    yield p
    p.kill()


# -- fast loads ------------------------------------------------------------------------


def test_warm_load_of_unchanged_flow_transfers_no_payload(backend: Backend, proxy: CountingProxy) -> None:
    storage = backend.storage()
    storage.add_flow(big_flow(value=5))
    storage.build()
    assert proxy.upstream_bytes > PAYLOAD

    proxy.reset_counts()
    cold = Storage.deserialize(json.loads(json.dumps(storage.serialize())))
    assert final_value(cold.get_flow(FLOW_NAME)) == 10
    assert proxy.downstream_bytes > PAYLOAD  # the first load downloads the flow

    proxy.reset_counts()
    warm = Storage.deserialize(storage.serialize())
    assert final_value(warm.get_flow(FLOW_NAME)) == 10
    assert proxy.downstream_bytes < 16 * 1024, f"warm load moved {proxy.downstream_bytes} bytes"
    assert proxy.upstream_bytes < 16 * 1024


def test_changed_object_is_downloaded_again(backend: Backend, proxy: CountingProxy) -> None:
    first = backend.storage(**_fixed_key(backend, "etl/flow.pkl"), **_overwrite(backend))
    first.add_flow(big_flow(value=1))
    first.build()
    reader = Storage.deserialize(first.serialize())
    assert final_value(reader.get_flow(FLOW_NAME)) == 2  # now cached

    second = backend.storage(**_fixed_key(backend, "etl/flow.pkl"), **_overwrite(backend))
    second.add_flow(big_flow(value=30))
    second.build()
    proxy.reset_counts()
    assert final_value(reader.get_flow(FLOW_NAME)) == 60
    assert proxy.downstream_bytes > PAYLOAD


def _fixed_key(backend: Backend, key: str) -> dict[str, str]:
    return {"blob_name": key} if backend.name == "azure" else {"key": key}


def _overwrite(backend: Backend) -> dict[str, bool]:
    return {"overwrite": True} if backend.name == "azure" else {}


# -- agent path ------------------------------------------------------------------------


def test_flow_registered_here_runs_through_agent_execute(backend: Backend, tmp_path: Path) -> None:
    backend.route_through(None)
    storage = backend.storage()
    flow = make_flow(value=8)
    flow.storage = storage
    storage.add_flow(flow)
    storage.build()
    spec = {"flow_run_id": "run-1", "flow_name": FLOW_NAME, "storage": storage.serialize(), "parameters": {},
            "checkpoint": True}
    proc = subprocess.run(
        [sys.executable, "-m", "prefect_storage.agent.execute"],
        input=json.dumps(spec), capture_output=True, text=True, cwd=REPO_ROOT, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    outcome = parse_outcome(proc.stdout)
    assert outcome is not None and outcome["state"] == "Success", (outcome, proc.stderr[-2000:])
    locations = {t["name"]: t["location"] for t in outcome["tasks"]}
    # Task results were checkpointed to the storage's paired result, in the same bucket.
    assert all(locations.values()), locations
    result = storage.result
    assert result is not None and result.read(locations["double"]).value == 16


# -- failures --------------------------------------------------------------------------


def test_server_dying_mid_build_leaves_no_partial_flow(
    backend: Backend, proxy: CountingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_RETRY_ATTEMPTS", "2")
    storage = backend.storage()
    for i in range(6):
        storage.add_flow(big_flow(name=f"flow {i}", value=i, size=256 * 1024))
    proxy.die_after_upstream = 600 * 1024  # dies in the middle of the third upload or so
    with pytest.raises(FlowStorageError) as info:
        storage.build()
    message = str(info.value)
    assert "could not be stored" in message or "Could not complete" in message, message
    assert "Traceback" not in message

    direct = backend.direct(storage)  # look at what the real server holds
    loaded, missing = 0, 0
    for i in range(6):
        try:
            flow = direct.get_flow(f"flow {i}")
        except FlowNotFoundError:
            missing += 1
        else:
            assert final_value(flow) == 2 * i  # whatever is visible is whole (digest checked)
            loaded += 1
    assert missing >= 1


def test_build_after_server_is_gone_is_a_clear_unavailable_error(
    backend: Backend, proxy: CountingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_RETRY_ATTEMPTS", "2")
    proxy.kill()
    storage = backend.storage()
    storage.add_flow(make_flow())
    with pytest.raises(BackendUnavailableError, match="after retrying"):
        storage.build()


def test_wrong_credentials_are_an_auth_error_naming_the_source(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    storage, secret, source = backend.wrong_credentials_storage()
    storage.add_flow(make_flow())
    with pytest.raises(StorageAuthError) as info:
        storage.build()
    assert source in str(info.value)
    assert secret not in str(info.value) and secret not in caplog.text
    storage.flows = {FLOW_NAME: "some/key"}
    with pytest.raises(StorageAuthError):
        Storage.deserialize(storage.serialize()).get_flow(FLOW_NAME)


def test_missing_bucket_or_container_says_so(backend: Backend) -> None:
    storage = backend.missing_container_storage()
    name = getattr(storage, "bucket", None) or storage.container  # type: ignore[attr-defined]
    storage.add_flow(make_flow())
    with pytest.raises(BucketNotFoundError, match=f"{name}.*does not exist") as info:
        storage.build()
    assert "Credentials used" in str(info.value)
    with pytest.raises(BucketNotFoundError, match="does not exist"):
        Storage.deserialize(storage.serialize()).get_flow(FLOW_NAME)


def test_missing_object_is_flow_not_found(backend: Backend) -> None:
    storage = Storage.deserialize({**backend.storage().serialize(), "flows": {FLOW_NAME: "no/such/key"}})
    with pytest.raises(FlowNotFoundError) as info:
        storage.get_flow(FLOW_NAME)
    if backend.name == "gcs":  # the classic wording
        assert str(info.value) == f"Flow not found in bucket: flow=no/such/key bucket={backend.bucket}"  # type: ignore[attr-defined]


def test_script_mode_without_key_or_script_is_refused(backend: Backend) -> None:
    storage = backend.storage(stored_as_script=True)
    storage.add_flow(make_flow())
    expected = "A `blob_name` must be provided" if backend.name == "azure" else "A `key` must be provided"
    with pytest.raises(StorageConfigError, match=expected):
        storage.build()


def test_build_uploads_concurrently(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    storage = backend.storage()
    for i in range(8):
        storage.add_flow(make_flow(name=f"flow {i}"))
    active, peak, lock = [0], [0], threading.Lock()
    original = storage._write

    def tracking_write(location: str, data: bytes) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            time.sleep(0.05)
            original(location, data)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(storage, "_write", tracking_write)
    storage.build()
    assert peak[0] > 1
    assert all(final_value(storage.get_flow(f"flow {i}")) == 42 for i in range(8))


# -- results ---------------------------------------------------------------------------


def test_result_write_read_exists(backend: Backend) -> None:
    result = backend.result(location="{flow_name}/{task_name}.pkl")
    assert not result.exists("{flow_name}/{task_name}.pkl", flow_name="etl", task_name="load")
    written = result.write({"rows": 3}, flow_name="etl", task_name="load")
    assert written.location == "etl/load.pkl" and written.value == {"rows": 3}
    assert result.exists("{flow_name}/{task_name}.pkl", flow_name="etl", task_name="load")
    assert result.read("etl/load.pkl").value == {"rows": 3}
    rebuilt = Result.deserialize(json.loads(json.dumps(written.serialize())))
    assert type(rebuilt) is type(result) and rebuilt.read("etl/load.pkl").value == {"rows": 3}
    copy = pickle.loads(pickle.dumps(result))
    assert copy.read("etl/load.pkl").value == {"rows": 3}


def test_paired_result_uses_the_same_bucket(backend: Backend) -> None:
    storage = backend.storage()
    paired = storage.result
    assert paired is not None
    container = getattr(storage, "bucket", None) or storage.container  # type: ignore[attr-defined]
    assert (getattr(paired, "bucket", None) or paired.container) == container  # type: ignore[attr-defined]
