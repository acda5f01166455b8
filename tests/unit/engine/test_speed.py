"""Per-task overhead stays small: a guard against accidental O(n^2) work in the runner.

Measured in CPU time of this process (not wall time), so a loaded machine does not make
it flaky; the bound is several times the figure measured on the development machine
(~0.1 s of CPU for each flow below; the formal benchmark lives in ``benchmarks/``).
"""

from __future__ import annotations

import time

from prefect_storage import Flow, task


@task
def inc(x: int) -> int:
    return x + 1


@task
def total(xs: list[int]) -> int:
    return sum(xs)


def _cpu(flow: Flow) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.process_time()
        state = flow.run()
        best = min(best, time.process_time() - started)
        assert state.is_successful()
    return best


def test_map_and_chain_overhead() -> None:
    with Flow("map-1000") as mapped:
        total(inc.map(list(range(1000))))
    with Flow("chain-1000") as chain:
        t = inc(0)
        for _ in range(999):
            t = inc(t)
    assert _cpu(mapped) < 1.0
    assert _cpu(chain) < 1.2
