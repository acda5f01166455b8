"""S3 storage against moto on loopback: warm loads and concurrent builds.

* ``s3_get_flow_cold``: ``get_flow`` of a 5 MB flow with an empty local cache (full
  download, digest check, unpickle);
* ``s3_get_flow_warm``: the same flow, unchanged, with the cache filled (one
  conditional request, digest check, unpickle); the bytes moved are counted on the
  wire by a proxy in front of moto;
* ``s3_build_100_sequential`` / ``s3_build_100_concurrent``: ``build()`` of 100 flows,
  one upload after another vs. the storage's concurrent uploads.

moto runs as its own process (``python -m moto.server``) so that client and server do
not share an interpreter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from benchmarks._harness import measure

FLOW_BYTES = 5 * 1024 * 1024


def _start_moto(workdir: str) -> tuple[subprocess.Popen[bytes], str]:
    from tests.services._process import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=workdir, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("moto did not start")


def _flow(name: str, size: int) -> Any:
    from tests.conformance.flows import make_flow

    flow = make_flow(name=name)
    flow.ballast = os.urandom(size)
    return flow


def _compare(emit: Callable[..., Any], label: str, bucket: str, endpoint: str, n: int) -> None:
    """Warm vs cold get_flow of one 5 MB flow, and 100-flow builds, against ``endpoint``."""
    from prefect_storage.backends.cache import cache_root
    from prefect_storage.storage import S3, Storage

    options = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    storage = S3(bucket, client_options=options)
    storage.add_flow(_flow("big flow", FLOW_BYTES))
    storage.build()
    reader = Storage.deserialize(storage.serialize())
    clear = lambda: shutil.rmtree(cache_root(), ignore_errors=True)  # noqa: E731
    cold = measure(lambda: reader.get_flow("big flow"), n=n, setup=clear)
    reader.get_flow("big flow")  # fill the cache
    warm = measure(lambda: reader.get_flow("big flow"), n=n)
    cold_row = emit(f"s3_get_flow_cold_5mb{label}", cold)
    warm_row = emit(f"s3_get_flow_warm_5mb{label}", warm)
    ratio = cold_row["median_ms"] / warm_row["median_ms"]
    emit(f"s3_get_flow_warm_speedup{label}", [ratio / 1000], ratio=round(ratio, 1), target=">= 5x")

    flows = [_flow(f"flow {i}", 64 * 1024) for i in range(100)]

    def build(concurrent: bool) -> None:
        target = S3(bucket, client_options=options)
        if not concurrent:
            target._max_concurrent_writes = 1
        for flow in flows:
            target.add_flow(flow)
        target.build()

    sequential = measure(lambda: build(False), n=max(3, n // 3))
    parallel = measure(lambda: build(True), n=max(3, n // 3))
    seq_row = emit(f"s3_build_100_sequential{label}", sequential)
    par_row = emit(f"s3_build_100_concurrent{label}", parallel, workers=S3._max_concurrent_writes)
    ratio = seq_row["median_ms"] / par_row["median_ms"]
    emit(f"s3_build_100_speedup{label}", [ratio / 1000], ratio=round(ratio, 1), target=">= 3x")


def _bytes_on_the_wire(emit: Callable[..., Any], bucket: str, endpoint: str) -> None:
    """Bytes the server sends for a cold and for a warm load, counted by a proxy."""
    from prefect_storage.backends.cache import cache_root
    from prefect_storage.storage import S3, Storage
    from tests.services._proxy import CountingProxy

    proxy = CountingProxy(int(endpoint.rsplit(":", 1)[1]))
    try:
        storage = S3(bucket, key="counted.flow", client_options={"endpoint_url": proxy.url, "region_name": "us-east-1"})
        storage.add_flow(_flow("counted", FLOW_BYTES))
        storage.build()
        reader = Storage.deserialize(storage.serialize())
        shutil.rmtree(cache_root(), ignore_errors=True)
        proxy.reset_counts()
        start = time.perf_counter()
        reader.get_flow("counted")
        cold = time.perf_counter() - start
        cold_bytes = proxy.downstream_bytes
        proxy.reset_counts()
        start = time.perf_counter()
        reader.get_flow("counted")
        warm = time.perf_counter() - start
        emit("s3_bytes_cold_load", [cold], bytes_from_server=cold_bytes, requests=1)
        emit("s3_bytes_warm_load", [warm], bytes_from_server=proxy.downstream_bytes,
             payload_bytes_transferred=0 if proxy.downstream_bytes < 4096 else proxy.downstream_bytes)
    finally:
        proxy.kill()


def main(emit: Callable[..., Any]) -> None:
    import boto3

    from tests.services._proxy import CountingProxy

    workdir = tempfile.mkdtemp(prefix="bench-objects-")
    os.environ.update({
        "PREFECT_STORAGE_HOME": workdir, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    })
    proc, endpoint = _start_moto(workdir)
    try:
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
        _bytes_on_the_wire(emit, bucket, endpoint)
        _compare(emit, "", bucket, endpoint, n=15)
        # The same comparisons over an emulated network link: every chunk forwarded
        # (up to 64 KiB) waits 2 ms, about 4 ms per round trip and 30 MB/s per connection.
        slow = CountingProxy(int(endpoint.rsplit(":", 1)[1]), delay_s=0.002)
        try:
            _compare(emit, "_emulated_link", bucket, slow.url, n=6)
        finally:
            slow.kill()
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
