"""Git engine: first load vs ``git clone``, warm load of an unchanged ref, load after a change.

A bare repository with a realistic history (300 commits, tens of MB: code plus data
files rewritten over time) is served by the test suite's smart-HTTP server, which
counts the bytes it sends. Measured:

* ``git clone`` (full, as the classic storage effectively did) — time and bytes;
* first load through the engine (empty cache: partial + shallow + sparse) — time, bytes;
* warm load of the unchanged ref (one ``ls-remote``) — time, bytes;
* load after one new commit touching the flow (fetches only the new objects) — time, bytes.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._harness import measure

COMMITS = 300
DATA_FILES = 24
DATA_SIZE = 96 * 1024
TOKEN = "bench-token-0123456789"
REPO_ROOT = Path(__file__).resolve().parents[1]


def _fast_import_stream(commits: int, rng: random.Random, start: int = 0, parent: bool = False) -> bytes:
    out = bytearray()
    for i in range(start, start + commits):
        files: dict[str, bytes] = {
            f"data/part_{i % DATA_FILES:02d}.bin": rng.randbytes(DATA_SIZE),
            f"src/pkg/module_{i % 40:02d}.py": "".join(f"def f_{i}_{j}(x):\n    return x + {j}\n" for j in range(60)).encode(),
            "flows/etl/flow.py": (
                "from prefect_storage import Flow, task\n"
                f"VERSION = {i}\n@task\ndef produce():\n    return VERSION\n"
                "with Flow('etl') as flow:\n    produce()\n"
            ).encode(),
        }
        message = f"commit {i}".encode()
        out += b"commit refs/heads/main\n"
        out += f"committer Bench <bench@example.com> {1_700_000_000 + i * 60} +0000\n".encode()
        out += b"data %d\n%s\n" % (len(message), message)
        if parent and i == start:  # later commits in a stream continue the branch by themselves
            out += b"from refs/heads/main^0\n"
        for path, data in files.items():
            out += b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data)
        out += b"\n"
    return bytes(out)


def _git(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], check=True, capture_output=True, **kwargs)


def _make_repo(root: Path) -> Path:
    bare = root / "bench" / "history.git"
    _git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    _git("--git-dir", str(bare), "fast-import", "--quiet", input=_fast_import_stream(COMMITS, random.Random(7)))
    _git("--git-dir", str(bare), "gc", "--quiet", "--aggressive")
    for key, value in (("uploadpack.allowFilter", "true"), ("uploadpack.allowAnySHA1InWant", "true")):
        _git("--git-dir", str(bare), "config", key, value)
    return bare


def _pack_size(bare: Path) -> int:
    return sum(p.stat().st_size for p in (bare / "objects" / "pack").glob("*.pack"))


class _Server:
    def __init__(self, root: Path, stats: Path) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.stats = stats
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.services._git_http_server", "--root", str(root), "--port", str(self.port),
             "--token", TOKEN, "--stats", str(stats)],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        assert self.proc.stdout is not None
        self.proc.stdout.readline()  # LISTENING <port>

    def sent(self) -> int:
        try:
            return sum(int(line.split()[-1]) for line in self.stats.read_text().splitlines())
        except FileNotFoundError:
            return 0

    def stop(self) -> None:
        os.killpg(self.proc.pid, 15)
        self.proc.wait(10)


def main(emit: Any) -> None:
    from prefect_storage.backends.git import GitAuth, GitRef, GitRemote, checkout

    work = Path(tempfile.mkdtemp(prefix="bench-git-"))
    started = time.perf_counter()
    bare = _make_repo(work / "repos")
    setup_s = time.perf_counter() - started
    server = _Server(work / "repos", work / "stats.log")
    url = f"http://127.0.0.1:{server.port}/bench/history.git"
    remote = GitRemote.parse(url, GitAuth("bench", TOKEN))
    env = {**os.environ, **{k: v for k, v in remote.env().items() if k.startswith(("GIT_CONFIG", "GIT_TERMINAL"))}}
    counter = {"i": 0}
    try:
        print(f"# repository: {COMMITS} commits, pack {_pack_size(bare) / 1e6:.1f} MB (made in {setup_s:.1f}s)", flush=True)

        def full_clone() -> None:
            counter["i"] += 1
            _git("clone", "--quiet", url, str(work / f"clone-{counter['i']}"), env=env)

        def bytes_of(fn: Any, n: int, **kwargs: Any) -> tuple[list[float], float]:
            before = server.sent()
            samples = measure(fn, n=n, warmup=0, **kwargs)
            return samples, (server.sent() - before) / n

        clone_s, clone_bytes = bytes_of(full_clone, n=3)
        emit("git clone (full)", clone_s, bytes=int(clone_bytes))

        def fresh_cache() -> None:
            counter["i"] += 1
            os.environ["PREFECT_STORAGE_CACHE_DIR"] = str(work / f"cache-{counter['i']}")

        def load() -> None:
            checkout(remote, GitRef(branch="main"), "flows/etl", depth=1)

        first_s, first_bytes = bytes_of(load, n=5, setup=fresh_cache)
        emit("engine first load (empty cache)", first_s, bytes=int(first_bytes),
             bytes_vs_clone=round(first_bytes / clone_bytes, 4))
        warm_s, warm_bytes = bytes_of(load, n=20)
        emit("engine warm load (unchanged ref)", warm_s, bytes=int(warm_bytes),
             speedup_vs_first=round(sorted(first_s)[len(first_s) // 2] / sorted(warm_s)[len(warm_s) // 2], 1))
        rng = random.Random(11)

        def new_commit() -> None:
            counter["i"] += 1
            _git("--git-dir", str(bare), "fast-import", "--quiet",
                 input=_fast_import_stream(1, rng, start=COMMITS + counter["i"], parent=True))
            server.sent()

        changed_s, changed_bytes = bytes_of(load, n=5, setup=new_commit)
        emit("engine load after a new commit", changed_s, bytes=int(changed_bytes),
             note="the new commit rewrites one 96 KiB data file, one module and the flow; only the flow's blob is needed")
    finally:
        server.stop()
        os.environ.pop("PREFECT_STORAGE_CACHE_DIR", None)
        shutil.rmtree(work, ignore_errors=True)
