"""Agent throughput and the cost of running each flow run in a child process.

* ``agent_throughput_c{1,2}``: a LocalAgent (``--once``) on an SQLite registry runs
  batches of trivial Local-storage (pickled) flow runs; per-run time and runs/s.
* ``agent_throughput_cold_c2``: the same with ``ProcessLauncher(warm=False)`` (a new
  interpreter per run, as before the warm template), the baseline of ``speedup_vs_cold``.
* ``run_child_process`` (warm: forked from the pre-imported template) and
  ``run_cold_child_process`` (new interpreter, imports, load, run, report) vs
  ``run_in_process`` (``run_spec``: load + run) and a bare ``get_flow``. The difference
  is the per-run price of crash isolation (``child_overhead_ms``, target <= 20 ms).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from benchmarks._harness import measure

BATCH = 30


def _trivial_flow() -> Any:
    from prefect_storage import Flow, task
    from prefect_storage.storage import Local

    @task
    def one() -> int:
        return 1

    with Flow("bench trivial") as flow:
        one()
    flow.storage = Local(add_default_labels=False)
    return flow


def main(emit: Callable[..., Any]) -> None:
    os.environ["PREFECT_STORAGE_HOME"] = tempfile.mkdtemp(prefix="bench-agent-")
    os.environ.pop("PREFECT_STORAGE_REGISTRY_URL", None)
    from prefect_storage.agent.execute import run_spec
    from prefect_storage.agent.launcher import ProcessLauncher
    from prefect_storage.agent.local import LocalAgent
    from prefect_storage.registry import Registry
    from prefect_storage.storage import Storage

    registry = Registry()
    flow = _trivial_flow()
    flow_id = flow.register(registry=registry)

    def throughput(concurrency: int, warm: bool) -> list[float]:
        per_run: list[float] = []
        launcher = ProcessLauncher(warm=warm)
        for _ in range(3):
            for _ in range(BATCH):
                registry.create_flow_run(flow_id)
            agent = LocalAgent(registry, concurrency=concurrency, poll_interval=0.05, hostname_label=False, launcher=launcher)
            start = time.perf_counter()
            assert agent.start(once=True) == BATCH
            per_run.append((time.perf_counter() - start) / BATCH)
        launcher.close()
        return per_run

    cold = throughput(2, warm=False)
    emit("agent_throughput_cold_c2", cold, runs_per_s=round(1 / statistics.median(cold), 2), batch=BATCH)
    for concurrency in (1, 2):
        per_run = throughput(concurrency, warm=True)
        emit(
            f"agent_throughput_c{concurrency}", per_run, runs_per_s=round(1 / statistics.median(per_run), 2), batch=BATCH,
            speedup_vs_cold_c2=round(statistics.median(cold) / statistics.median(per_run), 2) if concurrency == 2 else None,
        )

    spec = {"flow_run_id": "bench", "flow_name": flow.name, "storage": flow.storage.serialize(), "parameters": {}, "checkpoint": True}
    launcher = ProcessLauncher()
    cold_launcher = ProcessLauncher(warm=False)
    env = dict(os.environ)

    def child() -> None:
        assert launcher.launch(spec, env, timeout=60).state == "Success"

    def cold_child() -> None:
        assert cold_launcher.launch(spec, env, timeout=60).state == "Success"

    def in_process() -> None:
        assert run_spec(spec)["state"] == "Success"

    def get_flow_only() -> None:
        Storage.deserialize(spec["storage"]).get_flow(flow.name)

    child_s = measure(child, n=30, warmup=2)
    cold_s = measure(cold_child, n=10)
    inproc_s = measure(in_process, n=30)
    load_s = measure(get_flow_only, n=15)
    launcher.close()
    overhead_ms = (statistics.median(child_s) - statistics.median(inproc_s)) * 1000
    cold_overhead_ms = (statistics.median(cold_s) - statistics.median(inproc_s)) * 1000
    emit("run_child_process", child_s)
    emit("run_cold_child_process", cold_s, child_overhead_ms=round(cold_overhead_ms, 1))
    emit("run_in_process", inproc_s)
    emit("get_flow_in_process", load_s, child_overhead_ms=round(overhead_ms, 1),
         child_vs_in_process_ratio=round(statistics.median(child_s) / statistics.median(inproc_s), 1))
    registry.close()
