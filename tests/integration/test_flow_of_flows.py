"""Flow-of-flows, the key-value store and artifacts through real agent processes and a
real registry: a parent run (one agent process) creates a child run that ANOTHER agent
process executes, waits for it and reads its task result back through the run broker,
without ever seeing the registry URL or the signing key."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prefect_storage.registry import FAILED, SUCCESS, Registry
from tests.integration.registry_helpers import ROOT, cli_process, load_flow, write_flow

pytestmark = pytest.mark.integration

CHILD = '''
@task
def square(n):
    return n * n
'''

PARENT = '''
import json, os
from prefect_storage.tasks.prefect import create_flow_run, wait_for_flow_run, get_task_run_result
from prefect_storage.backend import set_key_value, get_key_value
from prefect_storage.artifacts import create_markdown, create_link, update_link

@task
def env_report():
    with open(os.environ["ENV_REPORT"], "w") as fh:
        json.dump(dict(os.environ), fh)

@task
def note():
    set_key_value("parent-saw", {"ok": True})
    link = create_link("https://example.invalid/first")
    update_link(link, "https://example.invalid/second")
    create_markdown("# parent was here")
    return get_key_value("parent-saw")

@task
def check(value, again, kv):
    assert value == 16, value
    assert again == value
    assert kv == {"ok": True}
    return value
'''

PARENT_WIRING = '''env_report()
    child_id = create_flow_run(flow_name="child", parameters={"n": 4}, idempotency_key="fixed-key")
    same_id = create_flow_run(flow_name="child", parameters={"n": 4}, idempotency_key="fixed-key")
    done = wait_for_flow_run(child_id, raise_final_state=True, stream_logs=True)
    value = get_task_run_result(child_id, "square-1", upstream_tasks=[done])
    again = get_task_run_result(same_id, "square-1", upstream_tasks=[done])
    check(value, again, note())'''


def _agent(registry_url: str, label: str, env: dict[str, str]) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "prefect_storage.cli", "agent", "local", "--no-hostname-label", "--label", label,
            "--poll-interval", "0.2", "--name", f"agent-{label}"]
    return subprocess.Popen(argv, cwd=ROOT, env={**env, "PREFECT_STORAGE_REGISTRY_URL": registry_url},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_finished(registry: Registry, run_id: str, timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while True:
        run = registry.get_flow_run(run_id)
        if run.state in (SUCCESS, FAILED):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.2)


def test_parent_run_by_one_agent_waits_for_a_child_run_by_another(registry_url: str, tmp_path: Path) -> None:
    load_flow(write_flow(tmp_path, "child", CHILD, "square(Parameter('n', default=2))", labels=["child"])).register(
        registry=registry_url
    )
    parent_id = load_flow(write_flow(tmp_path, "parent", PARENT, PARENT_WIRING, labels=["parent"])).register(
        registry=registry_url
    )
    report = tmp_path / "env.json"
    env = {**os.environ, "ENV_REPORT": str(report), "PREFECT_STORAGE_SIGNING_KEY": "agent-signing-key-value",
           "PREFECT_STORAGE_BLOCKS_KEY": "agent-blocks-key-value"}
    with Registry(registry_url) as registry:
        parent_run = registry.create_flow_run(parent_id)
        agents = [_agent(registry_url, "parent", env), _agent(registry_url, "child", env)]
        try:
            done = _wait_finished(registry, parent_run.id)
        finally:
            for agent in agents:
                agent.send_signal(signal.SIGTERM)
            outputs = [agent.communicate(timeout=30) for agent in agents]
        logs = "\n".join(e.message for e in registry.get_logs(parent_run.id))
        assert done.state == SUCCESS, (done.message, logs, outputs)
        children = registry.child_flow_runs(parent_run.id)
        assert len(children) == 1  # the second create_flow_run with the same key returned the first run
        child = registry.get_flow_run(children[0])
        assert child.state == SUCCESS and child.agent == "agent-child" and child.parameters == {"n": 4}
        assert done.agent == "agent-parent"
        assert "Flow 'child': Entered state <Success>" in logs
        artifacts = registry.list_artifacts(parent_run.id)
        assert sorted((a.kind, a.data) for a in artifacts) == [
            ("link", "https://example.invalid/second"), ("markdown", "# parent was here")
        ]
        assert registry.get_key_value("parent-saw") == {"ok": True}
    seen = json.loads(report.read_text())
    # the run reaches the registry through the broker, never with its URL or the agent's keys
    assert "PREFECT_STORAGE_REGISTRY_URL" not in seen
    assert "PREFECT_STORAGE_SIGNING_KEY" not in seen and "PREFECT_STORAGE_BLOCKS_KEY" not in seen
    assert not any(registry_url in value for value in seen.values())
    assert seen["PREFECT_STORAGE_RUN_BROKER"].endswith("broker.sock")
    listing = cli_process(registry_url, "runs", "artifacts", parent_run.id, "--json")
    assert listing.returncode == 0, listing.stderr
    assert {a["kind"] for a in json.loads(listing.stdout)} == {"link", "markdown"}


def _cli(url: str, *args: str) -> object:
    from click.testing import CliRunner

    from prefect_storage.cli import cli

    return CliRunner().invoke(cli, ["--registry", url, *args])


def test_kv_cli_round_trip_and_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kv.db'}"
    assert _cli(url, "kv", "set", "answer", '{"n": 42}').exit_code == 0
    assert _cli(url, "kv", "set", "plain", "hello world").exit_code == 0
    got = _cli(url, "kv", "get", "answer")
    assert got.exit_code == 0 and json.loads(got.stdout) == {"n": 42}
    assert json.loads(_cli(url, "kv", "ls", "--json").stdout) == ["answer", "plain"]
    assert _cli(url, "kv", "rm", "plain").exit_code == 0
    missing = _cli(url, "kv", "get", "plain")
    assert missing.exit_code == 3 and "No value found for key: plain" in missing.output
    too_big = _cli(url, "kv", "set", "big", "x" * 10_001)
    assert too_big.exit_code == 2 and "10 KB" in too_big.output


def test_flow_of_flows_tasks_outside_an_agent_use_the_configured_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage import Flow
    from prefect_storage.backend import get_key_value, list_keys, set_key_value
    from prefect_storage.exceptions import KeyValueError
    from prefect_storage.registry import client
    from prefect_storage.tasks.prefect import create_flow_run

    url = f"sqlite:///{tmp_path / 'local.db'}"
    monkeypatch.setenv("PREFECT_STORAGE_REGISTRY_URL", url)
    monkeypatch.delenv(client.BROKER_ENV, raising=False)
    assert type(client.run_registry()).__name__ == "Registry"
    set_key_value("k", [1, 2])
    assert get_key_value("k") == [1, 2] and list_keys() == ["k"]
    with pytest.raises(KeyValueError, match="No value found for key: nope"):
        get_key_value("nope")
    with pytest.raises(ValueError, match="Only one flow identifier"):
        create_flow_run.run(flow_id="a", flow_name="b")
    with Flow("lonely parent") as flow:
        create_flow_run(flow_name="not registered anywhere")
    state = flow.run()
    assert state.is_failed()
    (task_state,) = state.result.values()
    assert "No flow named 'not registered anywhere' is registered" in str(task_state.result)


def test_one_idempotency_key_creates_one_child_run_under_concurrency(registry_url: str, tmp_path: Path) -> None:
    import concurrent.futures

    flow_id = load_flow(write_flow(tmp_path, "child", CHILD, "square(Parameter('n', default=2))")).register(registry=registry_url)
    registries = [Registry(registry_url) for _ in range(4)]
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(
                lambda i: registries[i % 4].create_child_flow_run(flow_id, {"n": 3}, idempotency_key="retried-task-run").id,
                range(16),
            ))
        assert len(set(ids)) == 1
        other = registries[0].create_child_flow_run(flow_id, {"n": 3}, idempotency_key="another-key")
        assert other.id != ids[0]
        assert len(registries[0].list_flow_runs()) == 2
    finally:
        for registry in registries:
            registry.close()


def test_start_flow_run_from_a_local_flow_run_waits_for_an_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    from datetime import timedelta

    from prefect_storage import Flow
    from prefect_storage.agent.local import LocalAgent
    from prefect_storage.registry import client
    from prefect_storage.tasks.prefect import StartFlowRun

    url = f"sqlite:///{tmp_path / 'local.db'}"
    monkeypatch.setenv("PREFECT_STORAGE_REGISTRY_URL", url)
    monkeypatch.setenv("PREFECT_STORAGE_START_FLOW_RUN_POLL", "0.2")
    monkeypatch.delenv(client.BROKER_ENV, raising=False)
    load_flow(write_flow(tmp_path, "child", CHILD, "square(Parameter('n', default=2))", labels=["child"])).register(
        registry=url
    )
    with pytest.raises(ValueError, match="at least 3 seconds"):
        StartFlowRun(flow_name="child", poll_interval=timedelta(seconds=1))
    assert StartFlowRun(flow_name="child").name == "Flow child"
    registry = Registry(url)
    agent = LocalAgent(registry, labels=["child"], hostname_label=False, poll_interval=0.1)
    thread = threading.Thread(target=agent.start, daemon=True)
    thread.start()
    try:
        with Flow("local parent") as flow:
            waited = StartFlowRun(flow_name="child", project_name="default", wait=True, parameters={"n": 5})()
            no_project = StartFlowRun(flow_name="child", name="no project")()
        state = flow.run()
    finally:
        agent.stop()
        thread.join(30)
    assert state.result[waited].is_successful() and "finished in state" in state.result[waited].message
    assert state.result[no_project].is_failed() and "Must provide a project name." in str(state.result[no_project].result)
    (child_run,) = registry.list_flow_runs(flow_name="child")
    assert child_run.state == SUCCESS and child_run.parameters == {"n": 5}
    from prefect_storage.backend import FlowRunView

    view = FlowRunView.from_flow_run_id(child_run.id)
    assert view.get_task_run_result("square-1") == 25
    # classic prefect.backend views: the task run and the registered flow
    from prefect_storage.backend import FlowView, TaskRunView

    task_run = view.get_task_run("square-1")
    assert isinstance(task_run, TaskRunView) and task_run.state.is_successful() and task_run.get_result() == 25
    assert task_run.name == "square"
    assert TaskRunView.from_task_slug("square-1", child_run.id).get_result() == 25
    with pytest.raises(ValueError, match="slug"):
        view.get_task_run(task_run_id="some-id")
    flow_view = FlowView.from_flow_name("child", project_name="default")
    assert (flow_view.flow_id, flow_view.name, flow_view.project_name) == (child_run.flow_id, "child", "default")
    assert FlowView.from_flow_id(child_run.flow_id).version == flow_view.version
    assert type(flow_view.storage).__name__ == "Local" and "child" in flow_view.flow_group_labels
    registry.close()
