"""Runner storage against Prefect 3.9.1 (``python -m benchmarks runner_storage``).

RemoteStorage, on moto S3 behind a request-counting HTTP proxy, with a 51-file,
5.3 MB folder:

* repeat pull of the unchanged folder (warm process): time, requests, GETs, bytes;
* first pull in a fresh process (interpreter start + import + pull into an empty dir).

GitRepository, on the test suite's smart-HTTP git server (which logs bytes sent),
with a repository of 40 commits (code plus data files):

* repeat pull of an unchanged ref: time and bytes;
* pull after one new commit: bytes (ours fetches only the new commit's objects).

Prefect 3.9.1 runs in its own venv (``benchmarks.baseline_envs``), measured in the
same run against the same servers.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from benchmarks._harness import emit_value

REPO_ROOT = Path(__file__).resolve().parents[1]
N_FILES = 51
TOTAL_BYTES = 5_300_000
REGION = "us-east-1"

_PULL_SCRIPT = textwrap.dedent("""
    import asyncio, json, sys, time
    from pathlib import Path
    started = time.perf_counter()
    if sys.argv[1] == "prefect":
        from prefect.runner.storage import RemoteStorage
    else:
        from prefect_storage.runner.storage import RemoteStorage
    url, endpoint, base, repeats = sys.argv[2], sys.argv[3], Path(sys.argv[4]), int(sys.argv[5])
    storage = RemoteStorage(url, key="testing", secret="testing",
                            client_kwargs={"endpoint_url": endpoint, "region_name": "us-east-1"})
    storage.set_base_path(base)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        asyncio.run(storage.pull_code())
        times.append(time.perf_counter() - t)
    print(json.dumps({"times": times, "files": len(list(storage.destination.rglob("*")))}))
""")

_LIST_SCRIPT = textwrap.dedent("""
    import json, sys, time
    import boto3
    endpoint, bucket, prefix, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.list_objects_v2(Bucket=bucket, Prefix=prefix)  # connect
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        client.list_objects_v2(Bucket=bucket, Prefix=prefix)
        times.append(time.perf_counter() - t)
    print(json.dumps({"times": times}))
""")

_GIT_SCRIPT = textwrap.dedent("""
    import asyncio, json, sys, time
    from pathlib import Path
    if sys.argv[1] == "prefect":
        from prefect.runner.storage import GitRepository
    else:
        from prefect_storage.runner.storage import GitRepository
    url, token, base, repeats = sys.argv[2], sys.argv[3], Path(sys.argv[4]), int(sys.argv[5])
    if sys.argv[1] == "prefect":
        # Prefect 3 adds credentials to https URLs only; over plain http they go in the URL
        storage = GitRepository(url.replace("http://", f"http://x-access-token:{token}@"))
    else:
        storage = GitRepository(url, credentials={"access_token": token})
    storage.set_base_path(base)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        asyncio.run(storage.pull_code())
        times.append(time.perf_counter() - t)
    print(json.dumps({"times": times}))
""")


_KIND = {"prefect_storage": "ours", "prefect_3_9_1": "prefect"}


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "AWS_"))}
    env.update({
        "PYTHONPATH": str(REPO_ROOT), "PREFECT_HOME": str(home / "prefect-home"),
        "PREFECT_STORAGE_HOME": str(home / "ps-home"), "PREFECT_API_URL": "", "PREFECT_LOGGING_LEVEL": "WARNING",
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "GIT_TERMINAL_PROMPT": "0",
    })
    return env


def _run(python: str, script: Path, args: list[str], env: dict[str, str]) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    done = subprocess.run([python, str(script), *args], capture_output=True, text=True, env=env, timeout=600)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{script.name} {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def _remote_storage(emit: Any, prefect_python: str, work: Path) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    from tests.services._http_counter import CountingHTTPProxy

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    proxy = CountingHTTPProxy(port)
    try:
        client = boto3.client("s3", endpoint_url=f"http://{host}:{port}", region_name=REGION,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket="bench")
        rng = random.Random(3)
        size = TOTAL_BYTES // N_FILES
        for i in range(N_FILES):
            client.put_object(Bucket="bench", Key=f"code/pkg{i % 5}/module_{i:02d}.py", Body=rng.randbytes(size))
        url = "s3://bench/code"
        script = work / "pull.py"
        script.write_text(_PULL_SCRIPT)
        env = _env(work)
        results: dict[str, dict[str, Any]] = {}
        for who, python in (("prefect_storage", sys.executable), ("prefect_3_9_1", prefect_python)):
            base = work / f"remote-{who}"
            # warm process: first pull + 10 repeat pulls; requests counted for the last one
            proxy.reset()
            out, _ = _run(python, script, [_KIND[who], url, proxy.url, str(base), "1"], env)
            first_requests = len(proxy.requests)
            out, _ = _run(python, script, [_KIND[who], url, proxy.url, str(base), "11"], env)
            repeat = out["times"][1:]
            proxy.reset()
            _run(python, script, [_KIND[who], url, proxy.url, str(base), "1"], env)
            gets = [r for r in proxy.requests if r.method == "GET" and "list-type" not in r.query]
            lists = [r for r in proxy.requests if "list-type" in r.query]
            results[who] = {"repeat_ms": _median_ms(repeat), "repeat_requests": len(proxy.requests),
                            "repeat_lists": len(lists), "repeat_gets": len(gets), "repeat_bytes": proxy.bytes_sent(),
                            "first_requests": first_requests}
        # first pull in a fresh process (wall clock, interpreter + imports + pull), alternating
        fresh: dict[str, list[float]] = {"prefect_storage": [], "prefect_3_9_1": []}
        for i in range(3):
            order = [("prefect_storage", sys.executable), ("prefect_3_9_1", prefect_python)]
            for who, python in order if i % 2 == 0 else order[::-1]:
                base = work / f"fresh-{who}-{i}"
                _, wall = _run(python, script, [_KIND[who], url, proxy.url, str(base), "1"], env)
                fresh[who].append(wall)
        ours, theirs = results["prefect_storage"], results["prefect_3_9_1"]
        emit_value(
            "runner_storage.remote.repeat_pull_unchanged",
            files=N_FILES, folder_bytes=TOTAL_BYTES, ours=ours, prefect_3_9_1=theirs,
            speedup=round(theirs["repeat_ms"] / max(ours["repeat_ms"], 0.001), 1),
        )
        emit_value(
            "runner_storage.remote.first_pull_fresh_process",
            ours_median_ms=_median_ms(fresh["prefect_storage"]), prefect_3_9_1_median_ms=_median_ms(fresh["prefect_3_9_1"]),
            ours_ms=[round(x * 1000) for x in fresh["prefect_storage"]],
            prefect_3_9_1_ms=[round(x * 1000) for x in fresh["prefect_3_9_1"]],
            speedup=round(statistics.median(fresh["prefect_3_9_1"]) / statistics.median(fresh["prefect_storage"]), 2),
        )
        _repeat_over_emulated_link(emit_value, script, url, port, work, env, prefect_python)
    finally:
        proxy.close()
        server.stop()


def _repeat_over_emulated_link(emit_value: Any, script: Path, url: str, port: int, work: Path,
                               env: dict[str, str], prefect_python: str) -> None:
    """The repeat pull timed again without the counting HTTP proxy in the path (which
    adds its own cost to every request): straight to moto, and over an emulated network
    link (as ``object_stores`` does: every forwarded chunk of up to 64 KiB waits 2 ms,
    about 4 ms per round trip and 30 MB/s per connection)."""
    from tests.services._proxy import CountingProxy

    slow = CountingProxy(port, delay_s=0.002)
    try:
        for label, endpoint in (("direct", f"http://127.0.0.1:{port}"), ("emulated_link", slow.url)):
            repeat: dict[str, float] = {}
            for who, python in (("prefect_storage", sys.executable), ("prefect_3_9_1", prefect_python)):
                base = work / f"remote-{label}-{who}"
                out, _ = _run(python, script, [_KIND[who], url, endpoint, str(base), "8"], env)
                repeat[who] = _median_ms(out["times"][1:])  # the first pull fills the folder
            # the floor: the one list request an unchanged folder still needs, made with
            # plain boto3 (what the emulator's listing costs, before any client overhead)
            list_script = work / "list.py"
            list_script.write_text(_LIST_SCRIPT)
            listed, _ = _run(sys.executable, list_script, [endpoint, "bench", "code/", "8"], env)
            one_list = _median_ms(listed["times"])
            emit_value(
                f"runner_storage.remote.repeat_pull_unchanged_{label}",
                ours_repeat_ms=repeat["prefect_storage"], prefect_3_9_1_repeat_ms=repeat["prefect_3_9_1"],
                speedup=round(repeat["prefect_3_9_1"] / max(repeat["prefect_storage"], 0.001), 1),
                one_list_request_ms=one_list,
                ours_over_one_list=round(repeat["prefect_storage"] / max(one_list, 0.001), 2),
                best_possible_speedup=round(repeat["prefect_3_9_1"] / max(one_list, 0.001), 1),
            )
    finally:
        slow.kill()


def _git_repository(emit: Any, prefect_python: str, work: Path) -> None:
    from benchmarks.bench_git import TOKEN, _fast_import_stream, _git, _Server

    bare = work / "repos" / "code.git"
    bare.parent.mkdir(parents=True)
    _git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    _git("--git-dir", str(bare), "fast-import", "--quiet", input=_fast_import_stream(40, random.Random(11)))
    _git("--git-dir", str(bare), "gc", "--quiet")
    for key, value in (("uploadpack.allowFilter", "true"), ("uploadpack.allowAnySHA1InWant", "true")):
        _git("--git-dir", str(bare), "config", key, value)
    server = _Server(work / "repos", work / "git-stats.log")
    url = f"http://127.0.0.1:{server.port}/code.git"
    script = work / "git_pull.py"
    script.write_text(_GIT_SCRIPT)
    env = _env(work)
    try:
        rows: dict[str, dict[str, Any]] = {}
        for who, python in (("prefect_storage", sys.executable), ("prefect_3_9_1", prefect_python)):
            base = work / f"git-{who}"
            kind = _KIND[who]
            _run(python, script, [kind, url, TOKEN, str(base), "1"], env)  # first clone
            before = server.sent()
            out, _ = _run(python, script, [kind, url, TOKEN, str(base), "5"], env)
            repeat_bytes = (server.sent() - before) // 5
            rows[who] = {"repeat_ms": _median_ms(out["times"]), "repeat_bytes": repeat_bytes}
        # one new commit touching one file; both pull it
        _git("--git-dir", str(bare), "fast-import", "--quiet",
             input=_fast_import_stream(1, random.Random(99), start=40, parent=True))
        new_objects = subprocess.run(
            ["git", "--git-dir", str(bare), "rev-list", "--objects", "main", "--not", "main^"],
            capture_output=True, text=True, check=True,
        ).stdout.splitlines()
        for who, python in (("prefect_storage", sys.executable), ("prefect_3_9_1", prefect_python)):
            before = server.sent()
            _run(python, script, [_KIND[who], url, TOKEN, str(work / f"git-{who}"), "1"], env)
            rows[who]["after_new_commit_bytes"] = server.sent() - before
        new_commit_pack = subprocess.run(
            ["git", "--git-dir", str(bare), "pack-objects", "--stdout", "--revs"], input=b"main\n^main^\n",
            capture_output=True, check=True,
        ).stdout
        emit_value(
            "runner_storage.git.repeat_and_new_commit",
            ours=rows["prefect_storage"], prefect_3_9_1=rows["prefect_3_9_1"],
            new_commit_objects=len(new_objects), new_commit_pack_bytes=len(new_commit_pack),
        )
    finally:
        server.stop()


def main(emit: Any) -> None:
    from benchmarks.baseline_envs import BASELINES, ensure_venv

    prefect_python = str(ensure_venv("prefect3", BASELINES["prefect3"]))
    work = Path(tempfile.mkdtemp(prefix="bench-runner-"))
    parts = os.environ.get("RUNNER_BENCH_PARTS", "remote,git").split(",")  # e.g. RUNNER_BENCH_PARTS=git
    try:
        if "remote" in parts:
            _remote_storage(emit, prefect_python, work)
        if "git" in parts:
            _git_repository(emit, prefect_python, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    from benchmarks._harness import emit as _emit

    main(_emit)
