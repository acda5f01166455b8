"""The local agent against a real registry (SQLite and PostgreSQL): exactly-once
claiming across processes, load failures, crashes, timeouts, labels and secrets."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prefect_storage.agent.local import LocalAgent
from prefect_storage.registry import FAILED, SCHEDULED, SUCCESS, Registry
from tests.integration.registry_helpers import ROOT, load_flow, write_flow

pytestmark = pytest.mark.integration

RECORDING = '''
import os

@task
def record():
    with open(os.environ["RUN_RECORD"], "a") as fh:
        fh.write(context.flow_run_id + "\\n")
'''


def _agent(registry_url: str, **kwargs) -> LocalAgent:
    kwargs.setdefault("hostname_label", False)
    kwargs.setdefault("poll_interval", 0.1)
    return LocalAgent(Registry(registry_url), **kwargs)


def test_two_agent_processes_race_over_200_runs_each_run_executed_once(registry_url: str, tmp_path: Path) -> None:
    flow_id = load_flow(write_flow(tmp_path, "race", RECORDING, "record()")).register(registry=registry_url)
    with Registry(registry_url) as registry:
        run_ids = {registry.create_flow_run(flow_id).id for _ in range(200)}
    record = tmp_path / "executed.txt"
    env = {**os.environ, "RUN_RECORD": str(record)}
    argv = [sys.executable, "-m", "prefect_storage.cli", "--registry", registry_url, "agent", "local",
            "--once", "--concurrency", "4", "--no-hostname-label"]
    agents = [
        subprocess.Popen([*argv, "--name", f"racer-{i}"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    outputs = [agent.communicate(timeout=240) for agent in agents]
    assert [agent.returncode for agent in agents] == [0, 0], outputs
    executed = record.read_text().split()
    assert collections.Counter(executed) == collections.Counter(run_ids)  # every run exactly once
    with Registry(registry_url) as registry:
        runs = registry.list_flow_runs()
    assert {r.state for r in runs} == {SUCCESS}
    assert {r.agent for r in runs} <= {"racer-0", "racer-1"}


def test_flow_deleted_from_storage_fails_clearly_and_the_agent_continues(registry_url: str, tmp_path: Path) -> None:
    doomed = write_flow(tmp_path, "doomed")
    doomed_id = load_flow(doomed).register(registry=registry_url)
    healthy_id = load_flow(write_flow(tmp_path, "healthy")).register(registry=registry_url)
    with Registry(registry_url) as registry:
        doomed_run = registry.create_flow_run(doomed_id)
        healthy_run = registry.create_flow_run(healthy_id)
    doomed.unlink()
    assert _agent(registry_url).start(once=True) == 2
    with Registry(registry_url) as registry:
        failed, ok = registry.get_flow_run(doomed_run.id), registry.get_flow_run(healthy_run.id)
        logs = "\n".join(e.message for e in registry.get_logs(failed.id))
    assert failed.state == FAILED
    assert failed.message.startswith("Failed to load flow from storage: Flow script file not found")
    assert str(doomed) in failed.message and "Hint: check that the flow still exists" in failed.message
    assert "Failed to load flow from storage" in logs
    assert ok.state == SUCCESS


def test_labels_no_agent_covers_leave_the_run_scheduled(registry_url: str, tmp_path: Path) -> None:
    flow_id = load_flow(write_flow(tmp_path, "gpu only", labels=["gpu"])).register(registry=registry_url)
    with Registry(registry_url) as registry:
        run = registry.create_flow_run(flow_id)
    assert _agent(registry_url, labels=["cpu"]).start(once=True) == 0
    with Registry(registry_url) as registry:
        assert registry.get_flow_run(run.id).state == SCHEDULED
    assert _agent(registry_url, labels=["gpu", "cpu"]).start(once=True) == 1
    with Registry(registry_url) as registry:
        assert registry.get_flow_run(run.id).state == SUCCESS


def test_crashing_and_hanging_flows_fail_without_taking_the_agent_down(registry_url: str, tmp_path: Path) -> None:
    crash = load_flow(write_flow(tmp_path, "crash", "import os\n@task\ndef die():\n    os._exit(7)\n", "die()"))
    hang = load_flow(write_flow(tmp_path, "hang", "import time\n@task\ndef wait():\n    time.sleep(120)\n", "wait()"))
    fine = load_flow(write_flow(tmp_path, "fine"))
    with Registry(registry_url) as registry:
        runs = {f.name: registry.create_flow_run(f.register(registry=registry_url)).id for f in (crash, hang, fine)}
    assert _agent(registry_url, concurrency=3, timeout=3).start(once=True) == 3
    with Registry(registry_url) as registry:
        states = {name: registry.get_flow_run(run_id) for name, run_id in runs.items()}
    assert states["crash"].state == FAILED
    assert "exited with code 7 without reporting an outcome" in states["crash"].message
    assert states["hang"].state == FAILED and "timed out after 3 seconds and was killed" in states["hang"].message
    assert states["fine"].state == SUCCESS


SECRET_USER = '''
import sys
from prefect_storage.secrets import Secret, get_logger

@task
def use_token():
    token = Secret("DEMO_API_TOKEN").get()
    get_logger("flow").warning("using token %s", token)
    print("raw print of", token, file=sys.stderr)
    assert token == "s3cr3t-value-xyz"
    return len(token)
'''


def test_secrets_reach_the_run_and_never_its_logs(registry_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flow_id = load_flow(write_flow(tmp_path, "secretive", SECRET_USER, "use_token()", secrets=["DEMO_API_TOKEN"])).register(
        registry=registry_url
    )
    with Registry(registry_url) as registry:
        run = registry.create_flow_run(flow_id)
        flow_record = registry.get_flow(flow_id)
    assert "s3cr3t-value-xyz" not in str(flow_record)
    # the agent has the secret through the classic env form; the run gets it from the agent
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__DEMO_API_TOKEN", "s3cr3t-value-xyz")
    assert _agent(registry_url).start(once=True) == 1
    monkeypatch.delenv("PREFECT__CONTEXT__SECRETS__DEMO_API_TOKEN")
    with Registry(registry_url) as registry:
        done = registry.get_flow_run(run.id)
        logs = "\n".join(e.message for e in registry.get_logs(run.id))
    assert done.state == SUCCESS, done.message
    assert "using token ***" in logs and "raw print of ***" in logs
    assert "s3cr3t-value-xyz" not in logs + str(done)


def test_a_missing_secret_fails_the_run_with_what_to_do(registry_url: str, tmp_path: Path) -> None:
    flow_id = load_flow(write_flow(tmp_path, "needs secret", secrets=["ABSENT_SECRET_NAME"])).register(registry=registry_url)
    with Registry(registry_url) as registry:
        run = registry.create_flow_run(flow_id)
    assert _agent(registry_url).start(once=True) == 1
    with Registry(registry_url) as registry:
        done = registry.get_flow_run(run.id)
    assert done.state == FAILED
    assert done.message.startswith("Failed to load flow secret 'ABSENT_SECRET_NAME'")
    assert "provide the secret to the agent" in done.message


def test_parameters_reach_the_run_and_task_locations_are_recorded(registry_url: str, tmp_path: Path) -> None:
    body = "@task\ndef square(x):\n    return x * x\n"
    flow = load_flow(write_flow(tmp_path, "squares", body, "square(Parameter('x', default=2))"))
    flow.storage.result = None
    from prefect_storage.results import LocalResult

    flow.result = LocalResult(dir=str(tmp_path / "results"))
    flow_id = flow.register(registry=registry_url)
    with Registry(registry_url) as registry:
        run = registry.create_flow_run(flow_id, {"x": 9})
    _agent(registry_url).start(once=True)
    with Registry(registry_url) as registry:
        done = registry.get_flow_run(run.id)
    (square,) = [t for t in done.tasks if t["name"] == "square"]
    assert done.state == SUCCESS and square["state"] == "Success"
    assert LocalResult(dir=str(tmp_path / "results")).read(square["location"]).value == 81


def test_agent_survives_the_registry_being_briefly_unreachable(postgres_server: str | None, tmp_path: Path) -> None:
    import threading
    import time

    import sqlalchemy as sa

    from tests.conftest import require_service
    from tests.services._proxy import CountingProxy
    from tests.services.postgres import create_database

    require_service(postgres_server is not None, "PostgreSQL is not installed (scripts/setup.d/10-postgres.sh)")
    direct_url = create_database(postgres_server)
    db_port = sa.make_url(direct_url).port
    proxy = CountingProxy(db_port)
    proxied_url = direct_url.replace(f":{db_port}/", f":{proxy.port}/")
    flow_id = load_flow(write_flow(tmp_path, "patient")).register(registry=direct_url)
    agent = _agent(proxied_url, poll_interval=0.1)
    thread = threading.Thread(target=agent.start, daemon=True)
    thread.start()
    try:
        with Registry(direct_url) as registry:
            first = registry.create_flow_run(flow_id)
            _wait_for_state(registry, first.id, SUCCESS)
            proxy.kill()  # the registry disappears for the agent...
            second = registry.create_flow_run(flow_id)
            time.sleep(1.5)
            assert registry.get_flow_run(second.id).state == SCHEDULED
            assert thread.is_alive()
            proxy = CountingProxy(db_port, port=proxy.port)  # ...and comes back: the agent resumes on its own
            _wait_for_state(registry, second.id, SUCCESS)
    finally:
        agent.stop()
        thread.join(30)
        proxy.kill()
    assert not thread.is_alive()


def _wait_for_state(registry: Registry, run_id: str, state: str, timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while registry.get_flow_run(run_id).state != state:
        assert time.monotonic() < deadline, registry.get_flow_run(run_id)
        time.sleep(0.1)


def test_runs_of_a_dead_agent_fail_clearly_while_live_runs_keep_their_heartbeat(
    registry_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import threading

    import sqlalchemy as sa

    from prefect_storage.registry import schema as registry_schema
    from prefect_storage.registry.repository import utcnow

    lost_id = load_flow(write_flow(tmp_path, "orphan")).register(registry=registry_url)
    slow_id = load_flow(
        # Labelled so that only the worker can claim it: the watcher would otherwise take it about
        # half the time, and the heartbeat assertion below would then check nothing.
        write_flow(tmp_path, "slow", "import time\n@task\ndef nap():\n    time.sleep(3)\n", "nap()", labels=["slow-worker"])
    ).register(registry=registry_url)
    with Registry(registry_url) as registry:
        orphan = registry.create_flow_run(lost_id)
        registry.claim_flow_runs(set(), "ghost-agent")  # claimed by an agent that then died
        with registry.engine.begin() as conn:
            conn.execute(
                sa.update(registry_schema.flow_runs)
                .where(registry_schema.flow_runs.c.id == orphan.id)
                .values(heartbeat=utcnow() - __import__("datetime").timedelta(seconds=30))
            )
        slow = registry.create_flow_run(slow_id)
    caplog.set_level("WARNING", logger="prefect_storage.agent")
    worker = _agent(registry_url, labels=["slow-worker"], heartbeat_interval=0.2, lost_run_after=1.5)
    worker_thread = threading.Thread(target=worker.start, kwargs={"once": True}, daemon=True)
    worker_thread.start()
    watcher = _agent(registry_url, labels=["nothing-to-run"], hostname_label=False, lost_run_after=1.5)
    watcher_thread = threading.Thread(target=watcher.start, daemon=True)  # keeps checking for lost runs
    watcher_thread.start()
    worker_thread.join(60)
    watcher.stop()
    watcher_thread.join(30)
    with Registry(registry_url) as registry:
        lost, finished = registry.get_flow_run(orphan.id), registry.get_flow_run(slow.id)
    assert lost.state == FAILED and "agent 'ghost-agent'" in lost.message and "sent no heartbeat" in lost.message
    assert finished.state == SUCCESS, finished.message
    assert finished.agent == worker.name  # the worker, whose heartbeats are what is checked below
    lost_reports = [r.getMessage() for r in caplog.records if "lost its agent" in r.getMessage()]
    assert any(orphan.id in m for m in lost_reports)
    assert not any(slow.id in m for m in lost_reports)  # its heartbeats kept it alive past lost_run_after


def test_process_launcher_refuses_docker_storage_like_the_classic_local_agent(registry_url: str, tmp_path: Path) -> None:
    flow = load_flow(write_flow(tmp_path, "in an image"))
    flow_id = flow.register(registry=registry_url)
    with Registry(registry_url) as registry:
        docker_storage = {"type": "Docker", "flows": {"in an image": "/opt/flows/in-an-image.prefect"}, "secrets": []}
        record = registry.get_flow(flow_id)
        fake, _ = registry.add_flow_version("default", "in an image", record.serialized, docker_storage, [], "docker-key")
        run = registry.create_flow_run(fake.id)
    assert _agent(registry_url).start(once=True) == 1
    with Registry(registry_url) as registry:
        done = registry.get_flow_run(run.id)
    assert done.state == FAILED and done.message.startswith("Unsupported Storage type: Docker.")


def test_show_flow_logs_writes_each_runs_lines_to_the_agent_log(
    registry_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    body = '''
@task
def speak():
    context.logger.info("hello from the run")
'''
    flow_id = load_flow(write_flow(tmp_path, "talker", body, "speak()")).register(registry=registry_url)
    caplog.set_level("INFO", logger="prefect_storage.agent")
    for show in (False, True):
        with Registry(registry_url) as registry:
            run = registry.create_flow_run(flow_id)
        caplog.clear()
        assert _agent(registry_url, show_flow_logs=show).start(once=True) == 1
        lines = [r.getMessage() for r in caplog.records if "hello from the run" in r.getMessage()]
        assert bool(lines) is show
    assert lines[0].startswith(f"[{run.id[:8]}]")
