"""The classic-engine benchmark flows, written once against the Prefect 1.x API.

Run by ``bench_classic_engine`` both in-process (``prefect_storage``) and, as a script, by
the Prefect 1.4.1 baseline environment's Python (``package`` = ``prefect``):

    python _classic_flows.py prefect map|chain|dask N ROUNDS [dask_address]

prints one JSON line ``{"samples_s": [...]}`` with the wall time of each ``flow.run()``.
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
    terminal = [t for t in flow.tasks if not flow.downstream_tasks(t)] if hasattr(flow, "downstream_tasks") else []
    if case in ("map", "dask") and terminal:
        got = state.result[terminal[0]].result
        if got != expected(case, n):
            raise SystemExit(f"{case} flow gave {got!r}, expected {expected(case, n)}")


def main(argv: list[str]) -> int:
    package, case, n, rounds = argv[0], argv[1], int(argv[2]), int(argv[3])
    address = argv[4] if len(argv) > 4 else None
    pkg = importlib.import_module(package)
    flow = build(package, case, n)
    executor = None
    if case == "dask":
        executors = importlib.import_module(f"{package}.executors")
        executor = executors.DaskExecutor(address=address)
    samples = []
    for _ in range(rounds):
        elapsed, state = run_once(flow, executor)
        check(flow, state, case, n)
        samples.append(elapsed)
    print(json.dumps({"samples_s": samples, "version": getattr(pkg, "__version__", "?")}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
