"""Docker storage and the docker launcher against a real engine and real registries.

Image builds are the expensive part, so one image (two flows, pushed to the
loopback registry) is built per module and shared; the other builds reuse its
cached dependency layers. Containers have no network: every build installs
prefect-storage offline from the wheelhouse fixture.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prefect_storage import Flow, Parameter, task
from prefect_storage.agent.docker_launcher import DockerLauncher, secret_environment
from prefect_storage.backends import docker as backend
from prefect_storage.backends.docker import ImageBuildError, ImagePushError
from prefect_storage.exceptions import BackendUnavailableError, FlowNotFoundError, StorageAuthError
from prefect_storage.storage import Storage
from prefect_storage.storage.docker import Docker
from tests.conformance.flows import final_value, flow_script, make_flow
from tests.services._process import free_port
from tests.services.docker import REGISTRY_PASSWORD, REGISTRY_USER, DockerEngine, Registry

RUN_TOKEN = "run-token-9876"


def secret_flow(name: str = "secret flow") -> Flow:
    """A flow that succeeds only when the run's secret RUN_TOKEN reaches it."""

    @task
    def check_secret() -> int:
        from prefect_storage.secrets import Secret

        value = Secret("RUN_TOKEN").get()
        if value != "run-token-9876":
            raise ValueError("the run's secret did not arrive")
        return len(value)

    with Flow(name) as flow:
        check_secret()
    return flow


def sleepy_flow(name: str = "sleepy flow") -> Flow:
    @task
    def nap(seconds: float) -> float:
        import time

        time.sleep(seconds)
        return seconds

    with Flow(name) as flow:
        nap(Parameter("seconds", default=0))
    return flow


def docker_storage(base_image: str, wheelhouse: Path, **kwargs: Any) -> Docker:
    return Docker(base_image=base_image, local_image=True, wheelhouse=str(wheelhouse), **kwargs)


TEST_REPOSITORIES = ("it-flows", "it-broken", "it-script", "private-flows")


@pytest.fixture(scope="module", autouse=True)
def _remove_test_images(docker_engine: DockerEngine) -> Iterator[None]:
    """Leave the (possibly cached) engine as found: drop every image these tests made."""
    yield
    client = docker_engine.client()
    for image in client.images():
        for tag in image.get("RepoTags") or []:
            if tag.rsplit(":", 1)[0].rsplit("/", 1)[-1] in TEST_REPOSITORIES:
                client.remove_image(tag, force=True)
    client.prune_images(filters={"dangling": True})


@pytest.fixture(scope="module")
def pushed(docker_engine: DockerEngine, docker_base_image: str, docker_wheelhouse: Path, docker_registry: Registry) -> Docker:
    """The shared image: two pickled flows, content-tagged, pushed to the registry."""
    storage = docker_storage(
        docker_base_image, docker_wheelhouse, registry_url=docker_registry.host, image_name="it-flows",
        content_tag=True, secrets=["RUN_TOKEN"],
    )
    storage.add_flow(make_flow("docker flow", value=21))
    storage.add_flow(secret_flow())
    storage.add_flow(sleepy_flow())
    storage.build(push=True)
    return storage


def test_build_healthchecks_and_pushes(pushed: Docker, docker_registry: Registry, docker_engine: DockerEngine) -> None:
    output = "".join(pushed.build_output)
    assert "Flow 'docker flow' from /opt/prefect/flows/docker-flow.prefect: OK" in output
    assert "All health checks passed." in output
    assert pushed.image_tag in docker_registry.tags("it-flows")
    assert pushed.name == f"{docker_registry.host}/it-flows:{pushed.image_tag}"
    assert not docker_engine.client().images(name=pushed.name)  # classic: removed locally after the push


def test_get_flow_outside_the_image_reads_the_flow_file(pushed: Docker, docker_engine: DockerEngine) -> None:
    rebuilt = Storage.deserialize(json.loads(json.dumps(pushed.serialize())))
    assert final_value(rebuilt.get_flow("docker flow")) == 42
    client = docker_engine.client()
    assert client.containers(all=True, filters={"ancestor": pushed.name}) == []  # nothing ran, nothing left


def test_warm_get_flow_outside_the_image_uses_the_cache(pushed: Docker, monkeypatch: pytest.MonkeyPatch) -> None:
    assert final_value(Storage.deserialize(pushed.serialize()).get_flow("docker flow")) == 42

    def no_copy(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("the same image must not be read again")

    monkeypatch.setattr(backend, "read_file_from_image", no_copy)
    assert final_value(Storage.deserialize(pushed.serialize()).get_flow("docker flow")) == 42


def test_launcher_runs_flow_from_pushed_image_on_clean_engine(pushed: Docker, docker_engine: DockerEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    client = docker_engine.client()
    if client.images(name=pushed.name):
        client.remove_image(pushed.name, force=True)
    assert not client.images(name=pushed.name)
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__RUN_TOKEN", RUN_TOKEN)
    env = secret_environment(pushed.secrets)
    spec = {"flow_run_id": "run-1", "flow_name": "secret flow", "storage": pushed.serialize(), "parameters": {}, "checkpoint": False}
    outcome = DockerLauncher(network_mode="none").launch(spec, env, timeout=120)
    assert outcome.state == "Success", outcome
    assert [t["state"] for t in outcome.tasks] == ["Success"]
    assert outcome.exit_code == 0
    assert client.images(name=pushed.name)  # pulled from the registry
    assert RUN_TOKEN not in json.dumps(dataclasses.asdict(outcome))


def test_launcher_reports_a_missing_secret_as_a_failed_run(pushed: Docker) -> None:
    spec = {"flow_run_id": "run-2", "flow_name": "secret flow", "storage": pushed.serialize()}
    outcome = DockerLauncher(network_mode="none").launch(spec, {}, timeout=120)
    assert outcome.state == "Failed"
    assert outcome.tasks[0]["state"] == "Failed" and "RUN_TOKEN" in outcome.tasks[0]["message"]


def test_launcher_reports_an_unknown_flow(pushed: Docker) -> None:
    spec = {"flow_run_id": "run-3", "flow_name": "no such flow", "storage": pushed.serialize()}
    outcome = DockerLauncher(network_mode="none").launch(spec, {}, timeout=120)
    assert outcome.state == "Failed" and "Flow is not contained in this Storage" in outcome.message


def test_launcher_kills_a_run_past_its_timeout(pushed: Docker, docker_engine: DockerEngine) -> None:
    spec = {"flow_run_id": "run-4", "flow_name": "sleepy flow", "storage": pushed.serialize(), "parameters": {"seconds": 60}}
    outcome = DockerLauncher(network_mode="none").launch(spec, {}, timeout=3)
    assert outcome.state == "Failed" and outcome.timed_out and "timed out after 3 s" in outcome.message
    labels = {"label": "io.prefect-storage.flow-run-id=run-4"}
    assert docker_engine.client().containers(all=True, filters=labels) == []


def test_unchanged_content_tag_reuses_the_image(pushed: Docker, monkeypatch: pytest.MonkeyPatch, docker_registry: Registry) -> None:
    def no_build(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an unchanged flow must not build a new image")

    monkeypatch.setattr(backend, "build_image", no_build)
    tag = pushed.image_tag
    pushed.build(push=True)
    assert pushed.image_tag == tag
    assert docker_registry.tags("it-flows") == [tag]


def test_healthcheck_failure_names_the_missing_module(
    docker_base_image: str, docker_wheelhouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "host_only_helper_mod.py").write_text("def value():\n    return 5\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    helper = importlib.import_module("host_only_helper_mod")
    try:
        with Flow("needs helper") as flow:
            task(helper.value)()  # pickled by reference: the image must import host_only_helper_mod
        storage = docker_storage(docker_base_image, docker_wheelhouse, image_name="it-broken", image_tag="v1")
        storage.add_flow(flow)
        with pytest.raises(ImageBuildError) as info:
            storage.build(push=False)
    finally:
        sys.modules.pop("host_only_helper_mod", None)
    message = str(info.value)
    assert "needs the module 'host_only_helper_mod'" in message
    assert "python_dependencies" in message


def test_script_flow_files_and_dockerignore(
    docker_base_image: str, docker_wheelhouse: Path, tmp_path: Path, docker_engine: DockerEngine
) -> None:
    script = tmp_path / "script_flow.py"
    script.write_text(flow_script(name="script flow", value=4))
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "keep.txt").write_text("kept")
    (extra / "skip.secret").write_text("must not be in the image")
    ignore = tmp_path / "dockerignore"
    ignore.write_text("extra/*.secret\n")
    storage = docker_storage(
        docker_base_image, docker_wheelhouse, image_name="it-script", image_tag="v1", stored_as_script=True,
        path="/opt/prefect/flows/script_flow.py", flow_script_path=str(script),
        files={str(extra): "/opt/extra"}, dockerignore=str(ignore),
    )
    storage.add_flow(make_flow("script flow"))
    storage.build(push=False)
    assert "Flow 'script flow' from /opt/prefect/flows/script_flow.py: OK" in "".join(storage.build_output)
    assert final_value(Storage.deserialize(storage.serialize()).get_flow("script flow")) == 8
    client = docker_engine.client()
    assert backend.read_file_from_image(client, storage.name, "/opt/extra/keep.txt") == b"kept"
    with pytest.raises(FlowNotFoundError):
        backend.read_file_from_image(client, storage.name, "/opt/extra/skip.secret")


def test_push_to_an_unreachable_registry_fails_loudly(docker_base_image: str, docker_engine: DockerEngine) -> None:
    client = docker_engine.client()
    repository = f"127.0.0.1:{free_port()}/nowhere"
    client.tag(docker_base_image, repository, "v1")
    try:
        with pytest.raises((ImagePushError, BackendUnavailableError), match=r"connection refused|connect"):
            backend.push_image(client, repository, "v1")
    finally:
        client.remove_image(f"{repository}:v1")


def test_registry_with_auth(
    pushed: Docker, docker_base_image: str, docker_wheelhouse: Path, docker_registry_auth: Registry,
    docker_engine: DockerEngine, monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage = docker_storage(
        docker_base_image, docker_wheelhouse, registry_url=docker_registry_auth.host, image_name="private-flows",
        image_tag="v1",
    )
    storage.add_flow(make_flow("docker flow", value=21))
    with pytest.raises(StorageAuthError, match=r"no basic auth credentials|unauthorized"):
        storage.build(push=True)
    assert docker_registry_auth.tags("private-flows") == []

    creds = json.dumps({"username": REGISTRY_USER, "password": REGISTRY_PASSWORD})
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__REGISTRY_CREDS", creds)
    storage.registry_auth_secret = "REGISTRY_CREDS"
    storage.build(push=True)
    assert docker_registry_auth.tags("private-flows") == ["v1"]
    assert REGISTRY_PASSWORD not in json.dumps(storage.serialize())

    client = docker_engine.client()
    assert not client.images(name=storage.name)
    rebuilt = Storage.deserialize(storage.serialize())  # pulls with the secret's credentials
    assert final_value(rebuilt.get_flow("docker flow")) == 42

    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__REGISTRY_CREDS", json.dumps({"username": REGISTRY_USER, "password": "wrong-password"}))
    client.remove_image(storage.name, force=True)
    with pytest.raises(StorageAuthError) as info:
        Storage.deserialize(storage.serialize()).get_flow("docker flow")
    assert "wrong-password" not in str(info.value)


def test_docker_agent_runs_registered_flows_in_their_image(
    pushed: Docker, docker_engine: DockerEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent path end to end: register -> run -> `prefect-storage agent docker --once`."""
    from click.testing import CliRunner

    from prefect_storage.cli.app import cli
    from prefect_storage.registry import Registry
    from prefect_storage.storage import Local

    registry_url = f"sqlite:///{tmp_path / 'registry.db'}"
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__RUN_TOKEN", RUN_TOKEN)
    secret = pushed._flows["secret flow"]
    secret.storage = pushed
    secret_id = secret.register(registry=registry_url, build=False)
    elsewhere = make_flow("local flow")  # Local storage: the docker agent must refuse it, not crash
    elsewhere.storage = Local(directory=tmp_path / "flows", add_default_labels=False)
    local_id = elsewhere.register(registry=registry_url)
    with Registry(registry_url) as registry:
        secret_run = registry.create_flow_run(secret_id).id
        local_run = registry.create_flow_run(local_id).id
    result = CliRunner().invoke(
        cli, ["--registry", registry_url, "agent", "docker", "--once", "--network", "none", "--no-hostname-label"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    with Registry(registry_url) as registry:
        done = registry.get_flow_run(secret_run)
        refused = registry.get_flow_run(local_run)
        logs = "\n".join(entry.message for entry in registry.get_logs(secret_run))
    assert done.state == "Success", done
    assert refused.state == "Failed" and "agent local" in (refused.message or "")
    assert RUN_TOKEN not in logs


def test_classic_default_image_name_and_tag(docker_engine: DockerEngine, docker_base_image: str, docker_wheelhouse: Path) -> None:
    """One flow: image named after it; several: a uuid4; tag: the UTC timestamp slug;
    building with push=True but no registry warns that nothing is pushed."""
    import re
    import uuid

    single = docker_storage(docker_base_image, docker_wheelhouse)
    single.add_flow(make_flow("My Only Flow"))
    with pytest.warns(UserWarning, match="no `registry_url`, and will not be pushed"):
        single.build(push=True)
    assert single.image_name == "my-only-flow"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}t\d{2}-\d{2}-\d{2}-\d+-00-00", single.image_tag or "")
    several = docker_storage(docker_base_image, docker_wheelhouse)
    several.add_flow(make_flow("a"))
    several.add_flow(make_flow("b"))
    several.build(push=False)
    assert str(uuid.UUID(several.image_name or "")) == several.image_name
    client = docker_engine.client()
    for storage in (single, several):
        assert client.images(name=storage.name)
        client.remove_image(storage.name, force=True)
