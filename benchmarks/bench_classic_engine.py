"""The classic engine against Prefect 1.4.1 itself, measured in one run (issues 11 and 12).

* ``map``: ``flow.run()`` of a 1000-way ``.map`` followed by a reduce, default executor;
* ``chain``: ``flow.run()`` of a 1000-task chain, default executor;
* ``dask``: the 1000-way map on a 2-worker ``distributed`` cluster (``LocalCluster``, one
  thread per worker process, started outside the timing) with each side's ``DaskExecutor``.

Both sides run the same script (``benchmarks/_classic_flows.py``) in their own process:
ours with this interpreter, Prefect 1.4.1 with the ``prefect1`` baseline venv
(``benchmarks/baseline_envs.py``; created on first use). The two sides alternate round by
round. Reported: median/min/max per side, the ratio Prefect 1.4.1 / ours (how many times
faster), and the per-task overhead (median / number of task runs).

Targets: map <= 250 ms and chain <= 400 ms (>= 50x faster); dask >= 10x faster.
Environment: ``BENCH_CLASSIC_ROUNDS`` (default 3 rounds per side), ``BENCH_CLASSIC_CASES``
(default ``map,chain,dask``), ``BENCH_CLASSIC_N`` (default 1000).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.baseline_envs import ensure_venv

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "_classic_flows.py"
TARGETS = {"map": (250, 50), "chain": (400, 50), "dask": (None, 10)}


def _side(python: str, package: str, case: str, n: int, rounds: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) if package == "prefect_storage" else ""}
    done = subprocess.run(
        [python, str(SCRIPT), package, case, str(n), str(rounds)],
        capture_output=True, text=True, env=env, cwd=HERE, timeout=3600,
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            return list(json.loads(line[len("RESULT "):])["samples_s"])
    raise RuntimeError(f"{package} {case} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def main(emit: Callable[..., dict[str, Any]]) -> None:
    rounds = int(os.environ.get("BENCH_CLASSIC_ROUNDS", "3"))
    n = int(os.environ.get("BENCH_CLASSIC_N", "1000"))
    cases = [c for c in os.environ.get("BENCH_CLASSIC_CASES", "map,chain,dask").split(",") if c]
    prefect1 = str(ensure_venv("prefect1"))
    for case in cases:
        ours: list[float] = []
        theirs: list[float] = []
        # Alternate sides, one timed run each per round, so machine noise hits both alike.
        for i in range(rounds):
            order = [("ours", sys.executable, "prefect_storage"), ("prefect1", prefect1, "prefect")]
            for side, python, package in order if i % 2 == 0 else order[::-1]:
                (ours if side == "ours" else theirs).extend(_side(python, package, case, n, 1))
        tasks = n + 1 if case in ("map", "dask") else n  # children + the reduce; chain links
        med_ours, med_theirs = statistics.median(ours), statistics.median(theirs)
        limit_ms, factor = TARGETS[case]
        emit(
            f"classic_engine.{case}.ours",
            ours,
            n=len(ours),
            tasks=tasks,
            per_task_ms=round(1000 * med_ours / tasks, 4),
            target_ms=limit_ms,
        )
        emit(
            f"classic_engine.{case}.prefect_1_4_1",
            theirs,
            n=len(theirs),
            tasks=tasks,
            per_task_ms=round(1000 * med_theirs / tasks, 4),
        )
        ratio = med_theirs / med_ours
        print(
            json.dumps(
                {
                    "name": f"classic_engine.{case}.speedup",
                    "prefect_1_4_1_over_ours": round(ratio, 1),
                    "target_x": factor,
                    "meets_target": ratio >= factor and (limit_ms is None or 1000 * med_ours <= limit_ms),
                }
            ),
            flush=True,
        )
