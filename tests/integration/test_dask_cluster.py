"""DaskExecutor on a real dask.distributed cluster (scheduler + 2 worker processes)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from prefect_storage.core.executors import DaskExecutor
from prefect_storage.core.state import Failed

pytestmark = pytest.mark.integration


def pid_of(i):
    time.sleep(0.002)
    return i, os.getpid()


def add(x, y):
    return x + y


def die_once(marker: str, value):
    """Kill the worker process running this the first time (marker file absent)."""
    path = Path(marker)
    if not path.exists():
        path.write_text(str(os.getpid()))
        os._exit(1)
    return value, os.getpid()


def always_die(value):
    os._exit(1)


def test_map_spreads_over_both_worker_processes(dask_cluster):
    workers = dask_cluster.worker_pids()
    assert len(workers) == 2 and os.getpid() not in workers
    ex = DaskExecutor(address=dask_cluster.address)
    with ex.start():
        futures = ex.map(pid_of, range(200), extra_context={"task_name": "pid_of"})
        chained = ex.submit(add, futures[5], ("x",), extra_context={"task_name": "add"})
        out = ex.wait({"mapped": futures, "one": chained})
    assert [i for i, _ in out["mapped"]] == list(range(200))
    assert {pid for _, pid in out["mapped"]} == workers
    assert out["one"][0] == 5 and out["one"][2] == "x"


def test_a_worker_dying_mid_task_reruns_that_task_elsewhere(dask_cluster, tmp_path):
    dask_cluster.ensure_workers()
    ex = DaskExecutor(address=dask_cluster.address)
    marker = tmp_path / "died"
    with ex.start():
        victim = ex.submit(die_once, str(marker), "v", extra_context={"task_name": "victim"})
        others = ex.map(pid_of, range(20), extra_context={"task_name": "other"})
        out = ex.wait([victim, others])
    dead_pid = int(marker.read_text())
    value, pid = out[0]
    assert value == "v" and pid != dead_pid
    assert [i for i, _ in out[1]] == list(range(20))
    dask_cluster.ensure_workers()


def test_a_task_that_keeps_killing_workers_fails_alone(dask_cluster):
    dask_cluster.ensure_workers()
    ex = DaskExecutor(address=dask_cluster.address)
    with ex.start():
        bad = ex.submit(always_die, 1, extra_context={"task_name": "bad"})
        good = ex.map(pid_of, range(10), extra_context={"task_name": "good"})
        out = ex.wait({"bad": bad, "good": good})
    assert isinstance(out["bad"], Failed)
    assert "lost by the Dask cluster" in out["bad"].message and "KilledWorker" in out["bad"].message
    assert [i for i, _ in out["good"]] == list(range(10))
    dask_cluster.ensure_workers()
