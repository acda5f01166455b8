"""Dask executors without a cluster: arguments, the local schedulers, the agent's override."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading

import cloudpickle
import pytest

from prefect_storage.core.executors import DaskExecutor, LocalDaskExecutor, LocalExecutor
from prefect_storage.core.executors.dask import use_dask_address
from prefect_storage.exceptions import BackendNotInstalledError, ExecutorConfigError, ExecutorNotStartedError


def add(x, y=0):
    return x + y


def pid_and_thread(_):
    return os.getpid(), threading.get_ident()


@pytest.mark.parametrize(
    "given, normal",
    [("threads", "threads"), ("threading", "threads"), ("processes", "processes"), ("multiprocessing", "processes"),
     ("sync", "synchronous"), ("synchronous", "synchronous"), ("single-threaded", "synchronous"), ("THREADS", "threads")],
)
def test_scheduler_names_are_normalised(given, normal):
    assert LocalDaskExecutor(given).scheduler == normal


def test_unknown_scheduler_is_refused():
    with pytest.raises(ExecutorConfigError, match="Unknown scheduler 'nope'") as info:
        LocalDaskExecutor("nope")
    assert isinstance(info.value, ValueError)
    with pytest.raises(ExecutorConfigError, match="num_workers"):
        LocalDaskExecutor(num_workers=0)


@pytest.mark.parametrize("scheduler", ["threads", "processes", "synchronous"])
def test_local_dask_resolves_nested_futures_and_structures(scheduler):
    ex = LocalDaskExecutor(scheduler, num_workers=2)
    with ex.start():
        a = ex.submit(add, 1, 2, extra_context={"task_name": "a"})
        b = ex.submit(add, a, y=10, extra_context={"task_name": "b"})
        mapped = ex.map(add, [1, 2, 3], [10, 20, 30], extra_context={"task_name": "m"})
        total = ex.submit(sum, mapped)
        out = ex.wait({"a": a, "b": [b, (total, "plain")], "n": 5})
    assert out == {"a": 3, "b": [13, (66, "plain")], "n": 5}


def test_local_dask_does_not_recompute_waited_upstreams():
    calls = []

    def once(x):
        calls.append(x)
        return x

    ex = LocalDaskExecutor("threads", num_workers=2)
    with ex.start():
        up = ex.submit(once, 1, extra_context={"task_name": "up"})
        assert ex.wait(up) == 1
        down = [ex.submit(add, up, i) for i in range(3)]
        assert ex.wait(down) == [1, 2, 3]
        assert ex.wait(up) == 1
    assert calls == [1]


def test_local_dask_threads_and_processes_use_their_pools():
    threads = LocalDaskExecutor("threads", num_workers=3)
    with threads.start():
        seen = threads.wait(threads.map(pid_and_thread, range(40)))
    assert {pid for pid, _ in seen} == {os.getpid()}
    assert threading.get_ident() not in {t for _, t in seen}

    procs = LocalDaskExecutor("processes", num_workers=2)
    with procs.start():
        seen = procs.wait(procs.map(pid_and_thread, range(20)))
    assert os.getpid() not in {pid for pid, _ in seen}


def test_local_dask_pool_is_gone_after_the_run_and_executor_pickles():
    ex = LocalDaskExecutor("threads", num_workers=2, **{"array.chunk-size": "1MiB"})
    with ex.start():
        import dask

        assert dask.config.get("num_workers") == 2
        assert dask.config.get("array.chunk-size") == "1MiB"
        assert ex._pool is not None
        copy = cloudpickle.loads(cloudpickle.dumps(ex))
    assert ex._pool is None and copy._pool is None and copy.scheduler == "threads"


def test_dask_executor_arguments():
    ex = DaskExecutor()
    assert ex.address is None and ex.cluster_class == "distributed.LocalCluster"
    assert ex.cluster_kwargs["silence_logs"] == 50 and ex.client_kwargs == {"set_as_default": False}
    assert DaskExecutor(debug=True).cluster_kwargs["silence_logs"] == 30
    assert DaskExecutor(client_kwargs={"set_as_default": True}).client_kwargs["set_as_default"] is True
    with pytest.raises(ExecutorConfigError, match="Cannot specify `address` and `cluster_class`"):
        DaskExecutor(address="tcp://127.0.0.1:8786", cluster_class="distributed.LocalCluster")
    with pytest.raises(ExecutorConfigError, match="cluster_kwargs must be a dict"):
        DaskExecutor(cluster_kwargs=["n_workers", 2])
    with pytest.raises(ExecutorConfigError, match="address must be"):
        DaskExecutor(address=8786)
    assert repr(ex) == "<Executor: DaskExecutor>"


def test_dask_executor_address_from_the_classic_setting(monkeypatch):
    monkeypatch.setenv("PREFECT__ENGINE__EXECUTOR__DASK__ADDRESS", "tcp://10.1.2.3:8786")
    ex = DaskExecutor()
    assert ex.address == "tcp://10.1.2.3:8786" and ex.cluster_class is None
    monkeypatch.setenv("PREFECT__ENGINE__EXECUTOR__DASK__ADDRESS", "")
    assert DaskExecutor().address is None


def test_dask_executor_refuses_work_before_start_and_pickles_without_client():
    ex = DaskExecutor(address="tcp://127.0.0.1:1")
    with pytest.raises(ExecutorNotStartedError, match="not been started"):
        ex.submit(add, 1)
    ex.client = object()
    assert pickle.loads(pickle.dumps(ex)).client is None


def test_bad_cluster_class_is_named():
    from prefect_storage.core.executors.dask import _import_cluster_class

    with pytest.raises(ExecutorConfigError, match="no attribute 'Nope'"):
        _import_cluster_class("distributed.Nope")
    with pytest.raises(ExecutorConfigError, match="could not be imported"):
        _import_cluster_class("no_such_pkg_xyz.Cluster")


def test_dask_resource_tags():
    from prefect_storage.core.executors.dask import _resources, _task_key

    assert _resources({"task_tags": ["x", "DASK-RESOURCE:GPU=1", "dask-resource:mem=2.5"]}) == {"GPU": 1.0, "mem": 2.5}
    assert _resources({"task_tags": ["x"]}) is None
    with pytest.raises(ExecutorConfigError, match="dask-resource:NAME=AMOUNT"):
        _resources({"task_tags": ["dask-resource:GPU=lots"]})
    assert _task_key({"task_name": "t", "task_index": 3}).startswith("t-3-")
    assert _task_key({}) is None


class _FlowLike:
    executor = None


def test_use_dask_address_swaps_the_executor():
    flow = _FlowLike()
    flow.executor = LocalExecutor()
    assert use_dask_address(flow, "tcp://127.0.0.1:8786") is flow
    assert isinstance(flow.executor, DaskExecutor) and flow.executor.address == "tcp://127.0.0.1:8786"
    flow.executor = DaskExecutor(client_kwargs={"timeout": 7}, performance_report_path="/tmp/r.html")
    use_dask_address(flow, "tcp://10.0.0.1:8786")
    assert flow.executor.address == "tcp://10.0.0.1:8786"
    assert flow.executor.client_kwargs == {"timeout": 7, "set_as_default": False}
    assert flow.executor.performance_report_path == "/tmp/r.html"
    with pytest.raises(ExecutorConfigError):
        use_dask_address(flow, "  ")


def test_missing_dask_names_the_extra(tmp_path):
    # A child interpreter where importing dask/distributed fails.
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('dask', 'distributed'):\n"
        "            raise ImportError('blocked for the test: ' + name)\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    code = (
        "from prefect_storage.core.executors import LocalDaskExecutor, DaskExecutor\n"
        "from prefect_storage.exceptions import BackendNotInstalledError\n"
        "for ex in (LocalDaskExecutor(), DaskExecutor()):\n"
        "    try:\n"
        "        ex.start().__enter__()\n"
        "    except BackendNotInstalledError as exc:\n"
        "        print('OK', exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    lines = [line for line in out.stdout.splitlines() if line.startswith("OK")]
    assert len(lines) == 2, out.stdout + out.stderr
    assert all("prefect-storage[dask]" in line for line in lines)
    assert BackendNotInstalledError.__mro__[1:]  # typed, ImportError-based
