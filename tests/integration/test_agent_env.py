"""What a run's process sees of its agent: the environment (default pass-through minus
the project's sensitive settings; --no-pass-env allow-list mode), the run broker's
scoping, and run configs the agent cannot launch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prefect_storage.agent.local import LocalAgent
from prefect_storage.registry import FAILED, SUCCESS, Registry
from tests.integration.registry_helpers import load_flow, write_flow

pytestmark = pytest.mark.integration

REPORT = '''
import json, os

@task
def report():
    with open(os.environ["ENV_REPORT"], "w") as fh:
        json.dump(dict(os.environ), fh)
'''


def _run_env_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **agent_kwargs: object) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    report = tmp_path / "env.json"
    flow = load_flow(write_flow(tmp_path, "reporter", REPORT, "report()"))
    from prefect_storage.core.run_config import LocalRun

    flow.run_config = LocalRun(env={"FROM_RUN_CONFIG": "rc-value", "ENV_REPORT": str(report)})
    flow_id = flow.register(registry=url)
    for name, value in {
        "PREFECT_STORAGE_SIGNING_KEY": "k" * 32, "PREFECT_STORAGE_REGISTRY_URL": url, "PREFECT_STORAGE_BLOCKS_KEY": "b" * 32,
        "DATABASE_URL": "postgresql://app:pw@db/app", "CLOUD_TOKEN": "cloud-token-value", "HARMLESS": "yes",
    }.items():
        monkeypatch.setenv(name, value)
    with Registry(url) as registry:
        run = registry.create_flow_run(flow_id)
        assert LocalAgent(registry, hostname_label=False, poll_interval=0.1, **agent_kwargs).start(once=True) == 1
        done = registry.get_flow_run(run.id)
    assert done.state == SUCCESS, done.message
    return json.loads(report.read_text())


def test_runs_inherit_the_agent_environment_except_its_sensitive_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _run_env_report(tmp_path, monkeypatch, secret_env=["CLOUD_TOKEN"], env={"SET_BY_FLAG": "flag"})
    assert seen["DATABASE_URL"] == "postgresql://app:pw@db/app" and seen["HARMLESS"] == "yes"  # classic pass-through
    assert seen["FROM_RUN_CONFIG"] == "rc-value" and seen["SET_BY_FLAG"] == "flag"
    for hidden in ("PREFECT_STORAGE_SIGNING_KEY", "PREFECT_STORAGE_REGISTRY_URL", "PREFECT_STORAGE_BLOCKS_KEY", "CLOUD_TOKEN"):
        assert hidden not in seen
    assert seen["PREFECT__CONTEXT__FLOW_RUN_ID"]


def test_no_pass_env_passes_only_basics_and_the_allow_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _run_env_report(tmp_path, monkeypatch, pass_env=False, env_allow=["HARMLESS", "PREFECT_STORAGE_SIGNING_KEY"])
    assert seen["HARMLESS"] == "yes" and "PATH" in seen
    assert "DATABASE_URL" not in seen and "CLOUD_TOKEN" not in seen
    assert "PREFECT_STORAGE_SIGNING_KEY" not in seen  # never, even when allow-listed
    assert seen["FROM_RUN_CONFIG"] == "rc-value"


@pytest.mark.parametrize("kind", ["KubernetesRun", "ECSRun", "VertexRun"])
def test_run_configs_this_agent_cannot_launch_fail_the_run_naming_the_agent(tmp_path: Path, kind: str) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    flow = load_flow(write_flow(tmp_path, "elsewhere"))
    flow_id = flow.register(registry=url)
    with Registry(url) as registry:
        record = registry.get_flow(flow_id)
        serialized = {**record.serialized, "run_config": {"type": kind, "labels": [], "env": {}}}
        other, _ = registry.add_flow_version("default", "elsewhere", serialized, record.storage, [], f"key-{kind}")
        run = registry.create_flow_run(other.id)
        assert LocalAgent(registry, hostname_label=False).start(once=True) == 1
        done = registry.get_flow_run(run.id)
    agent_kind = {"KubernetesRun": "a Kubernetes agent", "ECSRun": "an ECS agent", "VertexRun": "a Vertex AI agent"}[kind]
    assert done.state == FAILED and f"run config is {kind}, which needs {agent_kind}" in done.message
    if kind != "KubernetesRun":
        return
    from prefect_storage.agent.docker_launcher import DockerLauncher
    from prefect_storage.agent.local import run_config_refusal

    assert "Kubernetes agent" in run_config_refusal({"type": kind}, DockerLauncher())


def test_the_broker_scopes_each_token_to_its_run(tmp_path: Path) -> None:
    from prefect_storage.agent.broker import RunBroker
    from prefect_storage.exceptions import ArtifactError, RunRegistryError
    from prefect_storage.registry.client import TOKEN_ENV, BrokerClient

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    flow_id = load_flow(write_flow(tmp_path, "scoped")).register(registry=url)
    with Registry(url) as registry:
        first, second = registry.create_flow_run(flow_id), registry.create_flow_run(flow_id)
        broker = RunBroker(registry)
        try:
            env_a, env_b = broker.open_run(first.id), broker.open_run(second.id)
            a, b = BrokerClient(broker.path, env_a[TOKEN_ENV]), BrokerClient(broker.path, env_b[TOKEN_ENV])
            art = a.create_artifact("ignored-run-id", "link", "https://example.invalid/a")
            assert [x.flow_run_id for x in registry.list_artifacts(first.id)] == [first.id]  # always the token's run
            with pytest.raises(ArtifactError, match="belongs to another flow run"):
                b.delete_artifact(art)
            assert a.get_flow_run(second.id).id == second.id and a.find_flow("scoped").id == flow_id
            broker.close_run(env_a)
            with pytest.raises(RunRegistryError, match="not valid"):
                a.list_keys()
            with pytest.raises(ValueError, match="no method"):
                b.call("set_flow_run_state", run_id=second.id, state="Success")
        finally:
            broker.stop()
        with pytest.raises(RunRegistryError, match="not reachable"):
            BrokerClient(broker.path, "x").list_keys()


def test_signed_flows_load_in_runs_that_never_see_the_signing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.storage import Local

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    monkeypatch.setenv("PREFECT_STORAGE_SIGNING_KEY", "a-signing-key-of-the-agent-0123456789")
    monkeypatch.setenv("PREFECT_STORAGE_REQUIRE_SIGNATURE", "true")
    report = tmp_path / "env.json"
    flow = load_flow(write_flow(tmp_path, "signed", REPORT, "report()"))
    flow.storage = Local(directory=str(tmp_path / "flows"), add_default_labels=False)  # a signed pickle
    from prefect_storage.core.run_config import LocalRun

    flow.run_config = LocalRun(env={"ENV_REPORT": str(report)})
    flow_id = flow.register(registry=url)
    with Registry(url) as registry:
        good = registry.create_flow_run(flow_id)
        assert LocalAgent(registry, hostname_label=False).start(once=True) == 1
        assert registry.get_flow_run(good.id).state == SUCCESS, registry.get_flow_run(good.id).message
        assert "PREFECT_STORAGE_SIGNING_KEY" not in json.loads(report.read_text())
        # the same file signed with another key is refused by the run, through the agent's check
        (path,) = [p for p in (tmp_path / "flows").rglob("*") if p.is_file()]
        from prefect_storage.serialization.flow_pickle import flow_from_bytes_pickle, flow_to_bytes_pickle

        original = flow_from_bytes_pickle(path.read_bytes())
        monkeypatch.setenv("PREFECT_STORAGE_SIGNING_KEY", "another-key-entirely-9876543210")
        path.write_bytes(flow_to_bytes_pickle(original))
        monkeypatch.setenv("PREFECT_STORAGE_SIGNING_KEY", "a-signing-key-of-the-agent-0123456789")
        forged = registry.create_flow_run(flow_id)
        assert LocalAgent(registry, hostname_label=False).start(once=True) == 1
        refused = registry.get_flow_run(forged.id)
    assert refused.state == FAILED and "wrong signature" in refused.message
