"""A real ``dask.distributed`` cluster for the tests: one scheduler and two worker processes
(each under its nanny, which restarts it if it dies), started with distributed's own
command-line entry points on 127.0.0.1 free ports.

* ``dask_cluster`` — session-wide; ``.address`` is the scheduler's ``tcp://`` address,
  ``.worker_pids()`` the pids of the current worker processes, ``.ensure_workers()`` waits
  (bounded) until both are up again after a test killed one.

The scheduler allows one worker death per task (``allowed-failures=1``): a task whose
worker dies is run again elsewhere once, and a second death ends it with ``KilledWorker``.
Workers run with the repository on ``PYTHONPATH`` so test modules' functions unpickle there.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_service
from tests.services._process import ServiceProcess, free_port, port_open

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 2
READY_TIMEOUT = 60.0


class DaskCluster:
    def __init__(self, address: str, processes: list[ServiceProcess]) -> None:
        self.address = address
        self.processes = processes

    def client(self) -> Any:
        from distributed import Client

        return Client(self.address, set_as_default=False, timeout=30)

    def ensure_workers(self, n: int = WORKERS, timeout: float = READY_TIMEOUT) -> None:
        with self.client() as client:
            client.wait_for_workers(n, timeout=timeout)

    def worker_pids(self) -> set[int]:
        with self.client() as client:
            return set(client.run(os.getpid).values())


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {
        "PYTHONPATH": path,
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
        # Quiet, quick: no dashboards; a dead worker is noticed fast.
        "DASK_DISTRIBUTED__DEPLOY__LOST_WORKER_TIMEOUT": "5s",
        "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "10s",
    }


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        require_service(False, f"distributed is not installed ({exc}); pip install -e '.[dask]'")
    logs = tmp_path_factory.mktemp("dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = _env()
    scheduler = ServiceProcess(
        "dask scheduler",
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard", "--no-show"],
        logs / "scheduler.log", cwd=ROOT, env=env,
    ).start()
    processes = [scheduler]
    try:
        scheduler.wait_until(lambda: port_open(port), timeout=READY_TIMEOUT)
        for i in range(WORKERS):
            processes.append(
                ServiceProcess(
                    f"dask worker {i}",
                    [sys.executable, "-m", "distributed.cli.dask_worker", address, "--host", "127.0.0.1",
                     "--nthreads", "2", "--nworkers", "1", "--no-dashboard", "--name", f"w{i}",
                     "--local-directory", str(logs / f"w{i}")],
                    logs / f"worker{i}.log", cwd=ROOT, env=env,
                ).start()
            )
        cluster = DaskCluster(address, processes)
        try:
            cluster.ensure_workers()
        except Exception as exc:
            text = "\n".join(f"--- {p.name}\n{p.log_text(2000)}" for p in processes)
            raise RuntimeError(f"the Dask cluster did not get {WORKERS} workers: {exc}\n{text}") from exc
        yield cluster
    finally:
        for proc in reversed(processes):
            proc.stop()
