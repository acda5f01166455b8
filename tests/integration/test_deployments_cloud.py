"""The reference page's cloud-storage examples (S3 on moto, GCS on fake-gcs-server, Azure
on Azurite), with only the import swap and loopback names: prefect.yaml push/pull with a
credentials block (a redeploy uploads nothing), the Python example with a storage block,
and the no-block example authenticated by the environment — each run through `agent local`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.deploy_helpers import MY_FLOW, cli, run_deployment, run_script, write

pytestmark = pytest.mark.integration

S3_YAML = '''
build: null
push:
- prefect_aws.deployments.steps.push_to_s3:
    id: push_code
    requires: prefect-aws>=0.5
    bucket: my-bucket
    folder: my-folder
    credentials: "{{ prefect.blocks.aws-credentials.my-credentials-block }}" # if explicit authentication is required
pull:
- prefect_aws.deployments.steps.pull_from_s3:
    id: pull_code
    requires: prefect-aws>=0.5
    bucket: '{{ push_code.bucket }}'
    folder: '{{ push_code.folder }}'
    credentials: "{{ prefect.blocks.aws-credentials.my-credentials-block }}" # if explicit authentication is required
deployments:
- name: my-aws-deployment
  version: null
  tags: []
  concurrency_limit: null
  description: null
  entrypoint: my_file.py:my_flow
  parameters: {}
  work_pool:
    name: my-work-pool
    work_queue_name: null
    job_variables: {}
  enforce_parameter_schema: true
  schedules: []
'''

AZURE_YAML = '''
build: null
push:
- prefect_azure.deployments.steps.push_to_azure_blob_storage:
    id: push_code
    requires: prefect-azure>=0.4
    container: my-prefect-azure-container
    folder: my-folder
    credentials: "{{ prefect.blocks.azure-blob-storage-credentials.my-credentials-block }}"
# if explicit authentication is required
pull:
- prefect_azure.deployments.steps.pull_from_azure_blob_storage:
    id: pull_code
    requires: prefect-azure>=0.4
    container: '{{ push_code.container }}'
    folder: '{{ push_code.folder }}'
    credentials: "{{ prefect.blocks.azure-blob-storage-credentials.my-credentials-block }}" # if explicit authentication is required
deployments:
- name: my-azure-deployment
  version: null
  tags: []
  concurrency_limit: null
  description: null
  entrypoint: my_file.py:my_flow
  parameters: {}
  work_pool:
    name: my-work-pool
    work_queue_name: null
    job_variables: {}
  enforce_parameter_schema: true
  schedules: []
'''

GCS_YAML = '''
build: null
push:
- prefect_gcp.deployment.steps.push_to_gcs:
    id: push_code
    requires: prefect-gcp>=0.6
    bucket: my-bucket
    folder: my-folder
    credentials: "{{ prefect.blocks.gcp-credentials.my-credentials-block }}" # if explicit authentication is required
pull:
- prefect_gcp.deployment.steps.pull_from_gcs:
    id: pull_code
    requires: prefect-gcp>=0.6
    bucket: '{{ push_code.bucket }}'
    folder: '{{ pull_code.folder }}'
    credentials: "{{ prefect.blocks.gcp-credentials.my-credentials-block }}" # if explicit authentication is required
deployments:
- name: my-gcs-deployment
  version: null
  tags: []
  concurrency_limit: null
  description: null
  entrypoint: my_file.py:my_flow
  parameters: {}
  work_pool:
    name: my-work-pool
    work_queue_name: null
    job_variables: {}
  enforce_parameter_schema: true
  schedules: []
'''

S3_NO_BLOCK = '''
from prefect import flow

if __name__ == "__main__":
    flow.from_source(
        source="s3://my-bucket/my-folder",
        entrypoint="my_file.py:my_flow",
    ).deploy(
        name="my-aws-s3-deployment",
        work_pool_name="my-work-pool"
    )
'''

# The page's s3_block.py lacks a comma after work_pool_name="my-work-pool" (a SyntaxError
# in any Python); it is added here, nothing else changed.
S3_BLOCK = '''
from prefect import flow
from prefect_aws.s3 import S3Bucket

if __name__ == "__main__":
    s3_bucket_block = S3Bucket.load("my-code-storage-block")

    # or:
    # s3_bucket_block = S3Bucket(
    #     bucket="my-bucket",
    #     folder="my-folder",
    #     credentials=AWSCredentials.load("my-credentials-block")
    # )

    flow.from_source(
        source=s3_bucket_block,
        entrypoint="my_file.py:my_flow"
    ).deploy(
        name="my-aws-s3-deployment",
        work_pool_name="my-work-pool",
        job_variables={"env": {"EXTRA_PIP_PACKAGES": "prefect-aws"} },
    )
'''

AZURE_NO_BLOCK = '''
from prefect import flow

if __name__ == "__main__":
    flow.from_source(
        source="az://mycontainer/myfolder",
        entrypoint="my_file.py:my_flow",
    ).deploy(
        name="my-azure-deployment",
        work_pool_name="my-work-pool",
        job_variables={"env": {"EXTRA_PIP_PACKAGES": "prefect-azure"} },
    )
'''

AZURE_BLOCK = '''
from prefect import flow
from prefect_azure import AzureBlobCredentials, AzureBlobStorage


if __name__ == "__main__":

    azure_blob_storage_block = AzureBlobStorage.load("my-code-storage-block")

    # or
    # azure_blob_storage_block = AzureBlobStorage(
    #     container="my-prefect-azure-container",
    #     folder="my-folder",
    #     credentials=AzureBlobCredentials.load("my-credentials-block")
    # )

    flow.from_source(source=azure_blob_storage_block, entrypoint="my_file.py:my_flow").deploy(
        name="my-azure-deployment", work_pool_name="my-work-pool"
    )
'''

GCS_NO_BLOCK = '''
from prefect import flow

if __name__ == "__main__":
    flow.from_source(
        source="gs://my-bucket/my-folder",
        entrypoint="my_file.py:my_flow",
    ).deploy(
        name="my-gcs-deployment",
        work_pool_name="my-work-pool"
    )
'''

GCS_BLOCK = '''
from prefect import flow
from prefect_gcp import GcpCredentials, GCSBucket


if __name__ == "__main__":

    gcs_bucket_block = GCSBucket.load("my-code-storage-block")

    # or
    # gcs_bucket_block = GCSBucket(
    #     bucket="my-bucket",
    #     folder="my-folder",
    #     credentials=GcpCredentials.load("my-credentials-block")
    # )

    flow.from_source(
        source=gcs_bucket_block,
        entrypoint="my_file.py:my_flow",
    ).deploy(
        name="my-gcs-deployment",
        work_pool_name="my_pool",
        job_variables={"env": {"EXTRA_PIP_PACKAGES": "prefect-gcp"} },
    )
'''


def _swap(source: str, bucket: str, folder_bucket: str = "my-bucket") -> str:
    return (
        source.replace("from prefect import flow", "from prefect_storage import flow")
        .replace("from prefect_aws.s3 import", "from prefect_storage.blocks.aws import")
        .replace("from prefect_azure import", "from prefect_storage.blocks.azure import")
        .replace("from prefect_gcp import", "from prefect_storage.blocks.gcp import")
        .replace("my-prefect-azure-container", bucket)
        .replace("mycontainer/myfolder", f"{bucket}/my-folder")
        .replace(folder_bucket, bucket)
    )


@pytest.fixture
def registry_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    monkeypatch.setenv("PREFECT_STORAGE_REGISTRY_URL", url)
    return url


def _cloud(kind: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Bucket, credentials block and storage block for one service (its env auth set too)."""
    from prefect_storage.blocks import credentials as creds
    from prefect_storage.blocks import storage

    if kind == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        endpoint = request.getfixturevalue("moto_endpoint")
        request.getfixturevalue("monkeypatch").setenv("AWS_ENDPOINT_URL", endpoint)  # the no-block example's "environment"
        block = creds.AwsCredentials(aws_access_key_id="testing", aws_secret_access_key="testing",
                                     aws_client_parameters={"endpoint_url": endpoint})
        code_block = storage.S3Bucket(bucket_name=bucket, bucket_folder="my-folder", credentials=block)
        return {"bucket": bucket, "credentials": block, "storage": code_block, "yaml": S3_YAML,
                "no_block": S3_NO_BLOCK, "with_block": S3_BLOCK, "pool": "my-work-pool",
                "names": ("my-flow/my-aws-deployment", "my-flow/my-aws-s3-deployment")}
    if kind == "gcs":
        bucket = request.getfixturevalue("gcs_bucket")
        block = creds.GcpCredentials(project="test")
        code_block = storage.GcsBucket(bucket=bucket, bucket_folder="my-folder", gcp_credentials=block)
        return {"bucket": bucket, "credentials": block, "storage": code_block, "yaml": GCS_YAML,
                "no_block": GCS_NO_BLOCK, "with_block": GCS_BLOCK, "pool": "my-work-pool", "block_pool": "my_pool",
                "names": ("my-flow/my-gcs-deployment", "my-flow/my-gcs-deployment")}
    container = request.getfixturevalue("azure_container")
    from tests.services.azurite import connection_string

    block = creds.AzureBlobStorageCredentials(connection_string=connection_string(request.getfixturevalue("azurite_endpoint")))
    code_block = storage.AzureBlobStorageContainer(container_name=container, base_folder="my-folder", credentials=block)
    return {"bucket": container, "credentials": block, "storage": code_block, "yaml": AZURE_YAML,
            "no_block": AZURE_NO_BLOCK, "with_block": AZURE_BLOCK, "pool": "my-work-pool",
            "names": ("my-flow/my-azure-deployment", "my-flow/my-azure-deployment")}


@pytest.mark.parametrize("kind", ["s3", "gcs", "azure"])
def test_cloud_folder_examples(kind: str, registry_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    cloud = _cloud(kind, request)
    bucket = cloud["bucket"]
    cloud["credentials"].save("my-credentials-block")
    project = write(tmp_path / "project", {
        "my_file.py": MY_FLOW,
        "helpers/notes.txt": "kept",
        "scratch.tmp": "ignored",
        ".prefectignore": "*.tmp\n",
        "prefect.yaml": _swap(cloud["yaml"], bucket),
    })
    # prefect.yaml: push (with .prefectignore), record the pull step, run it
    deployed = cli(registry_url, "deploy", cwd=project)
    assert "recorded" in deployed.stdout, deployed.stdout + deployed.stderr
    yaml_name = cloud["names"][0]
    stored = json.loads(cli(registry_url, "deployments", "inspect", yaml_name).stdout)
    (pull,) = stored["spec"]["pull_steps"]
    (inputs,) = pull.values()
    assert inputs["folder"] == "my-folder" and bucket in (inputs.get("bucket"), inputs.get("container"))
    assert inputs["credentials"].startswith("{{ prefect.blocks.")  # a reference, resolved at run time
    run, logs = run_deployment(registry_url, yaml_name, cloud["pool"], {"name": kind})
    assert run.state == "Success", (run.message, logs)
    assert f"Hello {kind}!" in logs
    # the pushed folder honours .prefectignore, and a redeploy of the unchanged project uploads nothing
    from prefect_storage.deployments.steps import push

    listing = cloud["storage"]._fs().find(f"{bucket}/my-folder")
    names = sorted(p.rsplit("my-folder/", 1)[-1] for p in listing)
    assert names == [".prefectignore", "helpers/notes.txt", "my_file.py", "prefect.yaml"]
    step = {"s3": push.push_to_s3, "gcs": push.push_to_gcs, "azure": push.push_to_azure_blob_storage}[kind]
    import contextlib

    with contextlib.chdir(project):
        again = step(bucket, "my-folder", credentials=cloud["credentials"])
    assert again["uploaded"] == 0 and again["unchanged"] == 4

    # Python, with a saved storage block as the source
    cloud["storage"].save("my-code-storage-block")
    script = write(tmp_path / "py", {"deploy_block.py": _swap(cloud["with_block"], bucket)})
    run_script(script / "deploy_block.py", registry_url)
    block_name = cloud["names"][1]
    run, logs = run_deployment(registry_url, block_name, cloud.get("block_pool", cloud["pool"]), {"name": f"{kind}-block"})
    assert run.state == "Success", (run.message, logs)

    # Python, no block: authenticated by the environment (AWS_*, STORAGE_EMULATOR_HOST, AZURE_STORAGE_CONNECTION_STRING)
    script = write(tmp_path / "nb", {"deploy_no_block.py": _swap(cloud["no_block"], bucket)})
    run_script(script / "deploy_no_block.py", registry_url)
    stored = json.loads(cli(registry_url, "deployments", "inspect", block_name if kind != "s3" else "my-flow/my-aws-s3-deployment").stdout)
    (pull,) = stored["spec"]["pull_steps"]
    assert "pull_from_remote_storage" in next(iter(pull))
    run, logs = run_deployment(registry_url, stored["full_name"], cloud["pool"], {"name": f"{kind}-env"})
    assert run.state == "Success", (run.message, logs)
