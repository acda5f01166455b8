"""The reference page's Docker examples: the prefect.yaml `build_docker_image` (dockerfile:
auto) recipe and `my_flow.deploy(image=...)`, each built on the real engine and run in its
image through `agent docker`. Heavy: run under `flock /tmp/ps-heavy.lock`. The images
install prefect-storage offline from the wheelhouse fixture, on the suite's base image."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.deploy_helpers import cli, run_deployment, run_script, write
from tests.services.docker import DockerEngine

pytestmark = pytest.mark.integration

DOCKER_YAML = '''
# build section allows you to manage and build docker images
build:
- prefect_docker.deployments.steps.build_docker_image:
    requires: prefect-docker>=0.3.1
    id: build-image
    dockerfile: auto
    image_name: my_username/default
    tag: latest

# push section allows you to manage if and how this project is uploaded to remote locations
push: null

# pull section allows you to provide instructions for cloning this project in remote locations
pull:
- prefect.deployments.steps.set_working_directory:
    directory: /opt/prefect/my_directory

# the deployments section allows you to provide configuration for deploying flows
deployments:
- name: my-docker-deployment
  version: null
  tags: []
  concurrency_limit: null
  description: null
  entrypoint: my_file.py:my_flow
  parameters: {}
  work_pool:
    name: my_pool
    work_queue_name: null
    job_variables:
      image: '{{ build-image.image }}'
  enforce_parameter_schema: true
  schedules: []
'''

PY_EXAMPLE = '''
from prefect_storage import flow


@flow
def my_flow():
    print("Hello from inside a Docker container!")


if __name__ == "__main__":
    my_flow.deploy(
        name="my-docker-deploy",
        work_pool_name="my_pool",
        image="my-docker-image:latest",
    )
'''

MY_FILE = '''
import os
from prefect_storage import flow

@flow(log_prints=True)
def my_flow(name: str = "World"):
    import cloudpickle  # from requirements.txt
    print(f"Hello {name} from {os.getcwd()} in a container: {os.path.exists('/.dockerenv')}")
'''


@pytest.fixture
def registry_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    monkeypatch.setenv("PREFECT_STORAGE_REGISTRY_URL", url)
    return url


def test_docker_image_deployments_run_in_their_image(
    registry_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    docker_engine: DockerEngine, docker_base_image: str, docker_wheelhouse: Path,
) -> None:
    from prefect_storage.agent.docker_launcher import DockerLauncher

    monkeypatch.setenv("PREFECT_STORAGE_DOCKER_BASE_IMAGE", docker_base_image)
    monkeypatch.setenv("PREFECT_STORAGE_WHEELHOUSE", str(docker_wheelhouse))
    client = docker_engine.client()
    launcher = DockerLauncher(network_mode="none")

    # prefect.yaml: build with dockerfile: auto (requirements.txt installed), run under agent docker
    project = write(tmp_path / "my_directory", {
        "my_file.py": MY_FILE, "requirements.txt": "cloudpickle\n", "prefect.yaml": DOCKER_YAML,
    })
    done = cli(registry_url, "deploy", cwd=project)
    assert "my-flow/my-docker-deployment" in done.stdout
    assert client.images(name="my_username/default:latest")
    run, logs = run_deployment(registry_url, "my-flow/my-docker-deployment", "my_pool", {"name": "Yaml"}, launcher=launcher)
    assert run.state == "Success", (run.message, logs)
    assert "Hello Yaml from /opt/prefect/my_directory in a container: True" in logs

    # Python: my_flow.deploy(image=...) bakes the current folder into the image
    script_dir = write(tmp_path / "pyproj", {"docker_deploy.py": PY_EXAMPLE})
    out = run_script(script_dir / "docker_deploy.py", registry_url)
    assert "my-flow/my-docker-deploy" in out
    run, logs = run_deployment(registry_url, "my-flow/my-docker-deploy", "my_pool", launcher=launcher)
    assert run.state == "Success", (run.message, logs)
    # the page's flow prints without log_prints, so its output is not a log line (as in Prefect);
    # the pull step's folder inside the image shows where it ran
    assert "code ready in /opt/prefect/pyproj" in logs
    for image in ("my_username/default:latest", "my-docker-image:latest"):
        client.remove_image(image, force=True)
