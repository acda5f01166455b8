"""Which image the docker agent runs a flow in (the classic order), and what it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from prefect_storage import DockerRun
from prefect_storage.agent.docker_launcher import DockerLauncher, image_for
from prefect_storage.agent.launcher import LaunchOutcome
from prefect_storage.agent.local import LocalAgent
from prefect_storage.exceptions import StorageConfigError
from prefect_storage.registry import SUCCESS, Registry
from prefect_storage.storage import Webhook
from prefect_storage.storage.docker import Docker
from tests.conformance.flows import make_flow

S3_STORAGE = {"type": "S3", "bucket": "flows", "flows": {"f": "f/1"}, "secrets": []}


def test_docker_storage_image_wins_over_run_config_and_default() -> None:
    storage = Docker(registry_url="reg:5000", image_name="etl", image_tag="v1").serialize()
    assert image_for({"storage": storage, "image": "other:1"}, default_image="fallback:1") == "reg:5000/etl:v1"


def test_run_config_image_then_agent_default() -> None:
    assert image_for({"storage": S3_STORAGE, "image": "team/flows:3"}, default_image="fallback:1") == "team/flows:3"
    assert image_for({"storage": S3_STORAGE}, default_image="fallback:1") == "fallback:1"
    with pytest.raises(StorageConfigError, match=r"DockerRun\(image=\.\.\.\).*--image"):
        image_for({"storage": S3_STORAGE})


def test_docker_launcher_refuses_storages_that_live_on_the_registering_machine() -> None:
    launcher = DockerLauncher()
    assert "agent local" in (launcher.refusal("Local") or "") and "agent local" in (launcher.refusal("Module") or "")
    assert launcher.refusal("S3") is None and launcher.refusal("Docker") is None
    assert launcher.isolated_environment


class RecordingLauncher:
    """Our own Launcher protocol, recording what the agent hands it."""

    isolated_environment = True

    def __init__(self) -> None:
        self.specs: list[dict[str, Any]] = []
        self.envs: list[dict[str, str]] = []

    def refusal(self, storage_type: str) -> str | None:
        return None

    def launch(self, spec: Any, env: Any, timeout: float | None) -> LaunchOutcome:
        self.specs.append(dict(spec))
        self.envs.append(dict(env))
        return LaunchOutcome(SUCCESS, "recorded", [], "")


def test_agent_hands_the_run_config_image_and_no_host_environment_to_an_isolated_launcher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST_ONLY_VARIABLE", "do-not-ship")
    registry_url = f"sqlite:///{tmp_path / 'r.db'}"
    flow = make_flow("containerised")
    flow.storage = Webhook(
        build_request_kwargs={"url": "http://127.0.0.1:9/f"}, build_request_http_method="PUT",
        get_flow_request_kwargs={"url": "http://127.0.0.1:9/f"}, get_flow_request_http_method="GET",
    )
    flow.storage.add_flow(flow)  # not built: the launcher never loads it
    flow.run_config = DockerRun(image="team/flows:3", env={"RUN_LEVEL": "debug"})
    flow_id = flow.register(registry=registry_url, build=False)
    with Registry(registry_url) as registry:
        run_id = registry.create_flow_run(flow_id).id
    launcher = RecordingLauncher()
    LocalAgent(Registry(registry_url), launcher=launcher, hostname_label=False).start(once=True)
    (spec,), (env,) = launcher.specs, launcher.envs
    assert spec["image"] == "team/flows:3" and spec["flow_run_id"] == run_id
    assert env["RUN_LEVEL"] == "debug" and "HOST_ONLY_VARIABLE" not in env and "PYTHONPATH" not in env
