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
        good = ex.map(pid_of, range(10), extra_context={"task_name": "good"})
        done = ex.wait(good)
        bad = ex.submit(always_die, 1, extra_context={"task_name": "bad"})
        out = ex.wait({"bad": bad, "good": good})
        after = ex.wait(ex.submit(add, 1, 2, extra_context={"task_name": "after"}))
    assert isinstance(out["bad"], Failed)
    assert "lost by the Dask cluster" in out["bad"].message and "KilledWorker" in out["bad"].message
    assert [i for i, _ in out["good"]] == [i for i, _ in done] == list(range(10))
    assert after == 3  # the run goes on
    dask_cluster.ensure_workers()


# -- whole flows ----------------------------------------------------------------------------

from datetime import timedelta  # noqa: E402

from prefect_storage import Flow, task  # noqa: E402
from prefect_storage.core.executors import LocalDaskExecutor, LocalExecutor  # noqa: E402
from prefect_storage.core.triggers import any_failed  # noqa: E402
from tests.integration.registry_helpers import ROOT, load_flow, write_flow  # noqa: E402


@task
def where(x):
    time.sleep(0.005)
    return x * 2, os.getpid()


@task
def values_only(pairs):
    return sum(v for v, _ in pairs)


def _mapped_flow() -> tuple[Flow, object, object]:
    with Flow("dask-map") as flow:
        pairs = where.map(list(range(200)))
        total = values_only(pairs)
    return flow, pairs, total


def test_200_way_map_runs_in_both_workers_with_the_local_result(dask_cluster):
    dask_cluster.ensure_workers()
    workers = dask_cluster.worker_pids()
    flow, pairs, total = _mapped_flow()
    local = flow.run(executor=LocalExecutor())
    flow.executor = DaskExecutor(address=dask_cluster.address)
    remote = flow.run()  # the flow's own executor
    assert local.is_successful() and remote.is_successful(), (local, remote)
    assert remote.result[total].result == local.result[total].result == sum(2 * x for x in range(200))
    children = remote.result[pairs].map_states
    assert len(children) == 200 and all(c.is_successful() for c in children)
    assert [c.result[0] for c in children] == [c.result[0] for c in local.result[pairs].map_states]
    assert {c.result[1] for c in children} == workers  # children ran in both worker processes


ATTEMPTS: dict[str, int] = {}


@task(max_retries=1, retry_delay=timedelta(seconds=0))
def flaky(marker: str) -> str:
    path = Path(marker)
    n = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(n))
    if n == 1:
        raise ValueError("first attempt fails")
    return f"attempt {n}"


@task
def boom():
    raise RuntimeError("boom")


@task(trigger=any_failed)
def on_failure():
    return "handled"


def _renaming_handler(task, old, new):
    if new.is_successful():
        new.message = f"handled by {task.name}"
    return new


@task(timeout=1)
def too_slow():
    time.sleep(2)
    return "finished anyway"


@task(state_handlers=[_renaming_handler])
def plain(x):
    return x + 1


def _semantics_flow(marker: Path) -> Flow:
    with Flow("dask-semantics") as flow:
        flaky(str(marker))
        on_failure(upstream_tasks=[boom()])
        plain.map([1, 2, 3])
        too_slow()
    return flow


def _plain(value):
    # Timeout messages differ by design (an alarm in the main thread, a watchdog elsewhere).
    if type(value).__name__ == "TaskTimeoutSignal":
        return "TaskTimeoutSignal"
    return repr(value) if isinstance(value, BaseException) else value


def _summary(flow: Flow, state) -> dict:
    out = {}
    for t, s in state.result.items():
        children = getattr(s, "map_states", None) or []
        out[t.name] = (type(s).__name__, _plain(s.result) if not children else [_plain(c.result) for c in children],
                       [c.message for c in children] if children else s.message if t.name == "plain" else None)
    return out


@pytest.mark.parametrize("kind", ["dask", "threads", "processes"])
def test_retries_timeouts_triggers_and_state_handlers_behave_as_with_the_local_executor(kind, dask_cluster, tmp_path):
    executor = {
        "dask": lambda: DaskExecutor(address=dask_cluster.address),
        "threads": lambda: LocalDaskExecutor("threads", num_workers=2),
        "processes": lambda: LocalDaskExecutor("processes", num_workers=2),
    }[kind]()
    local_flow = _semantics_flow(tmp_path / "local")
    local = local_flow.run(executor=LocalExecutor())
    other_flow = _semantics_flow(tmp_path / kind)
    other = other_flow.run(executor=executor)
    assert _summary(other_flow, other) == _summary(local_flow, local)
    assert type(other).__name__ == type(local).__name__
    assert (tmp_path / kind).read_text() == "2"  # retried once, on the executor
    assert _summary(other_flow, other)["too_slow"][0] == "TimedOut"


RECORD_PID = '''
import os
from prefect_storage.core.executors import DaskExecutor

ADDRESS = {address!r}

@task
def record(i):
    with open({record!r}, "a") as fh:
        fh.write(f"{{i}} {{os.getpid()}}\\n")
'''


def _agent_run_records_pids(dask_cluster, registry_url, tmp_path, name: str, body: str, n: int, *agent_args: str):
    """Register a flow mapping ``record`` over ``range(n)``, let one agent process run it;
    return the rows (index, pid) the tasks recorded and the cluster's worker pids."""
    import subprocess
    import sys

    from prefect_storage.registry import SUCCESS, Registry

    dask_cluster.ensure_workers()
    workers = dask_cluster.worker_pids()
    record = tmp_path / "pids.txt"
    path = write_flow(tmp_path, name, RECORD_PID.format(address=dask_cluster.address, record=str(record)), body)
    flow_id = load_flow(path).register(registry=registry_url)
    with Registry(registry_url) as registry:
        run_id = registry.create_flow_run(flow_id).id
    done = subprocess.run(
        [sys.executable, "-m", "prefect_storage.cli", "--registry", registry_url, "agent", "local", "--once",
         "--no-hostname-label", *agent_args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with Registry(registry_url) as registry:
        assert registry.get_flow_run(run_id).state == SUCCESS
    rows = [line.split() for line in record.read_text().splitlines()]
    assert sorted(int(i) for i, _ in rows) == list(range(n))
    return {int(pid) for _, pid in rows}, workers


@pytest.mark.parametrize("registry_url", ["sqlite"], indirect=True)
def test_an_agent_run_uses_the_flows_dask_executor(dask_cluster, registry_url, tmp_path):
    pids, workers = _agent_run_records_pids(
        dask_cluster, registry_url, tmp_path, "dask-agent",
        "record.map(list(range(40))); flow.executor = DaskExecutor(address=ADDRESS)", 40,
    )
    assert pids <= workers


@pytest.mark.parametrize("registry_url", ["sqlite"], indirect=True)
def test_the_agents_executor_address_overrides_the_flows_executor(dask_cluster, registry_url, tmp_path):
    # the flow itself keeps the default (local) executor: only the agent's flag sends it to Dask
    pids, workers = _agent_run_records_pids(
        dask_cluster, registry_url, tmp_path, "dask-override", "record.map(list(range(20)))", 20,
        "--executor-address", dask_cluster.address,
    )
    assert pids <= workers  # ran in the cluster's workers, not in the agent's child process


@pytest.mark.parametrize("watch", [None, False])
def test_worker_status_is_watched_unless_turned_off(watch, caplog):
    import logging
    import re

    import distributed

    caplog.set_level(logging.DEBUG, logger="prefect_storage")
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster, distributed.Client(
        cluster, set_as_default=False
    ) as client:
        executor = DaskExecutor(address=client.scheduler.address, watch_worker_status=watch, disable_cancellation_event=True)
        assert executor.disable_cancellation_event is True
        with executor.start():
            time.sleep(0.3)  # the subscription reaches the scheduler asynchronously, as in the classic class
            cluster.scale(2)
            client.wait_for_workers(2, timeout=30)
            cluster.scale(1)
            deadline = time.monotonic() + 30
            while len(client.scheduler_info()["workers"]) > 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)  # the scheduler's events reach the executor's client asynchronously
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("prefect_storage")]
    added = any(re.match(r"Worker .+ added", m) for m in messages)
    removed = any(re.match(r"Worker .+ removed", m) for m in messages)
    assert (added, removed) == ((True, True) if watch is None else (False, False))
