"""The classic-engine benchmark flows, written once against the Prefect 1.x API.

Run by ``bench_classic_engine`` both in-process (``prefect_storage``) and, as a script, by
the Prefect 1.4.1 baseline environment's Python (``package`` = ``prefect``):

    python _classic_flows.py PACKAGE map|chain|dask N ROUNDS [DASK_ADDRESS|local]

prints one JSON line ``{"samples_s": [...]}`` with the wall time of each ``flow.run()``
(after one untimed warm-up run of a 10-task version). For ``dask`` without an address, or
with ``local``, it starts a 2-worker ``distributed.LocalCluster`` (one thread per worker
process) first, outside the timings.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from typing import Any

N = 1000


def build(package: str, case: str, n: int = N) -> Any:
    """The flow for ``case``: ``map`` (n-way ``.map`` + reduce) or ``chain`` (n tasks in a line)."""
    pkg = importlib.import_module(package)
    Flow, task = pkg.Flow, pkg.task

    @task
    def inc(x: int) -> int:
        return x + 1

    @task
    def total(xs: list[int]) -> int:
        return sum(xs)

    with Flow(f"bench-{case}") as flow:
        if case in ("map", "dask"):
            total(inc.map(list(range(n))))
        elif case == "chain":
            value = inc(0)
            for _ in range(n - 1):
                value = inc(value)
        else:
            raise SystemExit(f"unknown case {case!r}")
    return flow


def expected(case: str, n: int = N) -> int:
    return sum(range(1, n + 1)) if case in ("map", "dask") else n


def run_once(flow: Any, executor: Any = None) -> tuple[float, Any]:
    start = time.perf_counter()
    state = flow.run(executor=executor) if executor is not None else flow.run()
    return time.perf_counter() - start, state


def check(flow: Any, state: Any, case: str, n: int) -> None:
    if not state.is_successful():
        raise SystemExit(f"{case} flow did not succeed: {state!r}")
    terminal = list(flow.terminal_tasks())
    got = state.result[terminal[0]].result
    if len(terminal) == 1 and got != expected(case, n):
            raise SystemExit(f"{case} flow gave {got!r}, expected {expected(case, n)}")


def main(argv: list[str]) -> int:
    package, case, n, rounds = argv[0], argv[1], int(argv[2]), int(argv[3])
    address = argv[4] if len(argv) > 4 else "local"
    pkg = importlib.import_module(package)
    cluster = None
    executor = None
    if case == "dask":
        if address == "local":
            from distributed import LocalCluster

            cluster = LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
            )
            address = cluster.scheduler_address
        try:
            executors = importlib.import_module(f"{package}.executors")
        except ImportError:  # before the classic path shim exists
            executors = importlib.import_module(f"{package}.core.executors")
        executor = executors.DaskExecutor(address=address)
    try:
        warm = build(package, case, 10)
        run_once(warm, executor)
        flow = build(package, case, n)
        samples = []
        for _ in range(rounds):
            elapsed, state = run_once(flow, executor)
            check(flow, state, case, n)
            samples.append(elapsed)
    finally:
        if cluster is not None:
            cluster.close()
    print("RESULT " + json.dumps({"samples_s": samples, "version": getattr(pkg, "__version__", "?")}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
