"""A git-sourced deployment run as a whole cold process, against Prefect 3.9.1.

One small repository (a flow file and a few modules) is served by the test suite's
smart-HTTP git server (token auth, bytes counted). Measured, each in a new process:

* **prefect_storage**: ``python -m prefect_storage.agent.execute`` with the run spec an
  agent sends for a deployment whose pull step is ``git_clone`` — start, pull, load the
  entrypoint, run the trivial flow, print the outcome;
  * *cold*: a fresh workspace every time (``PREFECT_STORAGE_FRESH_WORKSPACE``);
  * *repeat*: the deployment's cached workspace and an unchanged repository — the
    bytes the server sent tell whether anything was pulled;
* **Prefect 3.9.1** (its own venv from :mod:`benchmarks.baseline_envs`): a process that
  imports Prefect, pulls the same repository with ``GitRepository.pull_code()`` into a
  fresh folder, loads the entrypoint with ``load_flow_from_entrypoint`` and calls the
  flow function (spawn + import + git pull + load, as the issue's 1.14 s figure).

Target: prefect_storage cold <= 0.25x Prefect 3.9.1 in the same run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._harness import emit_value, measure
from benchmarks.bench_git import TOKEN, _Server

REPO_ROOT = Path(__file__).resolve().parents[1]

FLOW = '''
from prefect_storage import flow
import helpers

@flow
def my_flow(n: int = 1):
    return helpers.double(n)
'''

PREFECT_FLOW = '''
from prefect import flow
import helpers

@flow
def my_flow(n: int = 1):
    return helpers.double(n)
'''

PREFECT_SCRIPT = '''
import asyncio, sys, tempfile
from pathlib import Path
from prefect.runner.storage import GitRepository
from prefect.flows import load_flow_from_entrypoint

url, token = sys.argv[1], sys.argv[2]
base = Path(tempfile.mkdtemp())
# Prefect injects credentials only into https URLs; on the loopback http server the token
# goes into the URL, which is what Prefect does with it for https anyway
repo = GitRepository(url=url.replace("http://", f"http://bench:{token}@"), pull_interval=None)
repo.set_base_path(base)
asyncio.run(repo.pull_code())
flow = load_flow_from_entrypoint(str(repo.destination / "prefect_flow.py") + ":my_flow")
assert flow.fn(n=2) == 4
'''


def _git(*args: str, cwd: Path | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


def _make_repo(root: Path) -> None:
    bare = root / "repos" / "bench" / "deploy.git"
    _git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    for key, value in (("uploadpack.allowFilter", "true"), ("uploadpack.allowAnySHA1InWant", "true")):
        _git("--git-dir", str(bare), "config", key, value)
    work = root / "work"
    _git("clone", "--quiet", str(bare), str(work))
    (work / "flow.py").write_text(FLOW)
    (work / "prefect_flow.py").write_text(PREFECT_FLOW)
    (work / "helpers.py").write_text("def double(x):\n    return 2 * x\n")
    for i in range(20):
        (work / "pkg" / f"m{i}.py").parent.mkdir(exist_ok=True)
        (work / "pkg" / f"m{i}.py").write_text("".join(f"def f{j}(x):\n    return x + {j}\n" for j in range(50)))
    _git("checkout", "--quiet", "-B", "main", cwd=work)
    _git("add", "-A", cwd=work)
    _git("commit", "--quiet", "-m", "init", cwd=work)
    _git("push", "--quiet", "origin", "main", cwd=work)


def _spec(url: str) -> dict[str, Any]:
    return {
        "flow_run_id": "bench-run",
        "flow_name": "my-flow/bench",
        "parameters": {"n": 2},
        "storage": {
            "type": "Deployment",
            "deployment_id": "bench-deployment",
            "deployment_name": "my-flow/bench",
            "flow_name": "my-flow",
            "entrypoint": "flow.py:my_flow",
            "pull_steps": [{"prefect.deployments.steps.git_clone": {
                "repository": url, "branch": "main",
                "credentials": {"username": "bench", "access_token": "{{ $BENCH_GIT_TOKEN }}"},
            }}],
            "parameters": {},
            "secrets": [],
        },
    }


def main(emit: Any) -> None:
    from benchmarks.baseline_envs import ensure_venv

    work = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    _make_repo(work)
    server = _Server(work / "repos", work / "stats.log")
    url = f"http://127.0.0.1:{server.port}/bench/deploy.git"
    home = work / "home"
    env = {**os.environ, "PREFECT_STORAGE_HOME": str(home), "BENCH_GIT_TOKEN": TOKEN, "GIT_TERMINAL_PROMPT": "0",
           "PYTHONPATH": str(REPO_ROOT)}
    spec = json.dumps(_spec(url))
    try:
        prefect3 = ensure_venv("prefect3")

        def ours(fresh: bool) -> None:
            run_env = {**env, "PREFECT_STORAGE_FRESH_WORKSPACE": "true" if fresh else ""}
            done = subprocess.run([sys.executable, "-m", "prefect_storage.agent.execute"], input=spec, env=run_env,
                                  capture_output=True, text=True, cwd=work)
            assert '"state": "Success"' in done.stdout, done.stdout + done.stderr

        def theirs() -> None:
            done = subprocess.run([str(prefect3), "-c", PREFECT_SCRIPT, url, TOKEN], capture_output=True, text=True,
                                  cwd=work, env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "PREFECT_HOME": str(work / "p3home")})
            assert done.returncode == 0, done.stderr[-2000:]

        n = int(os.environ.get("BENCH_N", "7"))
        samples: dict[str, list[float]] = {"ours_cold": [], "ours_repeat": [], "prefect": []}
        ours(False)  # warm the repeat workspace and the OS caches (not timed)
        theirs()
        repeat_bytes = []
        for _ in range(n):  # interleaved, so machine noise hits all three alike
            samples["ours_cold"] += measure(lambda: ours(True), n=1, warmup=0)
            before = server.sent()
            samples["ours_repeat"] += measure(lambda: ours(False), n=1, warmup=0)
            repeat_bytes.append(server.sent() - before)
            samples["prefect"] += measure(theirs, n=1, warmup=0)
        med = {k: sorted(v)[len(v) // 2] for k, v in samples.items()}
        emit("prefect 3.9.1 cold deployment run (spawn+import+git pull+load+call)", samples["prefect"])
        emit("prefect_storage cold deployment run (fresh workspace)", samples["ours_cold"],
             ratio_vs_prefect3=round(med["ours_cold"] / med["prefect"], 3), target_ratio=0.25)
        emit("prefect_storage repeat deployment run (cached workspace, unchanged repo)", samples["ours_repeat"],
             ratio_vs_prefect3=round(med["ours_repeat"] / med["prefect"], 3))
        emit_value("prefect_storage repeat run: bytes sent by the git server", median_bytes=sorted(repeat_bytes)[len(repeat_bytes) // 2],
                   note="advertisement only; no pack is fetched when the repository is unchanged")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    from benchmarks._harness import emit as _emit

    main(_emit)
