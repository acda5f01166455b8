"""moto in server mode: a real HTTP S3 and Secrets Manager on 127.0.0.1 for the tests.

* ``moto_endpoint`` — one in-process ``ThreadedMotoServer`` per session (free port);
  tests isolate themselves with unique bucket and secret names.
* ``aws_env`` — dummy credentials and region for boto3, per test.
* ``s3_bucket`` — a fresh, empty bucket on that server.
* ``moto_auth_endpoint`` — a separate ``moto_server`` process with IAM checks on
  (``INITIAL_NO_AUTH_ACTION_COUNT=0``), where unknown keys are refused.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require_service
from tests.services._process import ServiceProcess, free_port, port_open

REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        require_service(False, f"moto[server] is not installed ({exc}); pip install -e '.[test]'")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")


def s3_client(endpoint: str):
    import boto3

    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@pytest.fixture
def s3_bucket(moto_endpoint: str, aws_env: None) -> str:
    name = f"flows-{uuid.uuid4().hex[:12]}"
    s3_client(moto_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def moto_auth_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = Path(tmp_path_factory.mktemp("moto-auth")) / "moto.log"
    service = ServiceProcess(
        "moto (IAM checks on)",
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        log,
        env={"INITIAL_NO_AUTH_ACTION_COUNT": "0"},
    )
    with service:
        service.wait_until(lambda: port_open(port), timeout=30)
        yield f"http://127.0.0.1:{port}"
