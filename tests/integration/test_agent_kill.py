"""``kill -9`` of an agent: its runs' processes (and their children) die with it, a run's
final state is written only by the agent holding it, and an agent restarted on the same
host fails its own lost runs at once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prefect_storage.agent.local import LocalAgent
from prefect_storage.exceptions import RunOwnershipError
from prefect_storage.registry import FAILED, RUNNING, Registry
from tests.integration.registry_helpers import ROOT, load_flow, write_flow

pytestmark = pytest.mark.integration

LINGER = '''
import os, subprocess, time

@task
def linger():
    grandchild = subprocess.Popen(["sleep", "300"])
    with open(os.environ["PID_FILE"], "w") as fh:
        fh.write(f"{os.getpid()} {grandchild.pid}")
    time.sleep(300)
'''


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return "\nState:\tZ" not in fh.read()
    except FileNotFoundError:
        return False


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_kill_9_of_the_agent_kills_its_runs_and_a_restart_fails_them(tmp_path: Path, warm: bool) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    flow_id = load_flow(write_flow(tmp_path, "linger", LINGER, "linger()")).register(registry=url)
    with Registry(url) as registry:
        run = registry.create_flow_run(flow_id)
    pid_file = tmp_path / "pids"
    argv = [sys.executable, "-m", "prefect_storage.cli", "--registry", url, "agent", "local", "--no-hostname-label",
            "--poll-interval", "0.2", "--name", "killable", *([] if warm else ["--cold-start"])]
    agent = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, "PID_FILE": str(pid_file)},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: pid_file.exists() and " " in pid_file.read_text(), 60, "the run never started")
        child, grandchild = map(int, pid_file.read_text().split())
        assert _alive(child) and _alive(grandchild)
        os.kill(agent.pid, signal.SIGKILL)
        agent.wait(10)
        _wait(lambda: not _alive(child) and not _alive(grandchild), 10, "the run outlived its agent")
    finally:
        if agent.poll() is None:
            agent.kill()
    with Registry(url) as registry:
        assert registry.get_flow_run(run.id).state == RUNNING  # nobody has noticed yet...
        restarted = LocalAgent(registry, name="killable", hostname_label=False, poll_interval=0.1)
        restarted.start(once=True)  # ...until the agent comes back on this host
        lost = registry.get_flow_run(run.id)
        assert lost.state == FAILED and "'killable'" in lost.message and "killed or restarted" in lost.message
        with pytest.raises(RunOwnershipError, match="no longer holds it"):
            registry.set_flow_run_state(run.id, "Success", "late outcome", agent="killable")
        assert registry.get_flow_run(run.id).state == FAILED


def test_a_restarted_default_named_agent_fails_runs_of_its_dead_predecessor_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    flow_id = load_flow(write_flow(tmp_path, "plain")).register(registry=url)
    finished = subprocess.run(["true"], check=True)
    del finished
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    with Registry(url) as registry:
        lost, alive = registry.create_flow_run(flow_id), registry.create_flow_run(flow_id)
        registry.claim_flow_runs(set(), f"local-agent-{host}-{dead.pid}-abcdef", limit=1)
        registry.claim_flow_runs(set(), f"local-agent-{host}-{os.getpid()}-fedcba", limit=1)
        LocalAgent(registry, hostname_label=False, labels=["nothing"]).start(once=True)
        assert registry.get_flow_run(lost.id).state == FAILED
        assert registry.get_flow_run(alive.id).state == RUNNING  # its agent process is still alive
