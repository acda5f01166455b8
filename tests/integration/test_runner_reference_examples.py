"""The examples of the reference pages (runner-storage-api, code-storage-for-deployments,
secrets-in-workflows), run with only the import swap against the loopback services.

Each example is kept as Prefect users write it; the test swaps ``prefect`` for
``prefect_storage`` (and an integration package for its ``prefect_storage.blocks``
module), points the hosts at the local servers, and runs it.
"""

from __future__ import annotations

import asyncio
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.services.git import GitService
from tests.services.moto import s3_client

pytestmark = pytest.mark.integration

INTEGRATIONS = {
    "prefect_github": "prefect_storage.blocks.github",
    "prefect_gitlab": "prefect_storage.blocks.gitlab",
    "prefect_bitbucket": "prefect_storage.blocks.bitbucket",
    "prefect_aws.s3": "prefect_storage.blocks.aws",
    "prefect_aws": "prefect_storage.blocks.aws",
    "prefect_gcp": "prefect_storage.blocks.gcp",
    "prefect_azure": "prefect_storage.blocks.azure",
}


def swap(source: str, hosts: dict[str, str]) -> str:
    """The import swap, plus the real hosts replaced by the loopback servers."""
    for old, new in INTEGRATIONS.items():
        source = source.replace(f"from {old} import", f"from {new} import")
    source = re.sub(r"\bfrom prefect\.", "from prefect_storage.", source)
    source = re.sub(r"\bfrom prefect import", "from prefect_storage import", source)
    for old, new in hosts.items():
        source = source.replace(old, new)
    return source


def run_example(source: str, hosts: dict[str, str], base: Path, **names: Any) -> dict[str, Any]:
    code = swap(textwrap.dedent(source), hosts)
    assert "import prefect\n" not in code and "from prefect." not in code and "from prefect import" not in code
    namespace: dict[str, Any] = {"__name__": "example", **names}
    # the examples use top-level await; run them in a coroutine
    body = textwrap.indent(code, "    ")
    exec(f"async def __example__():\n{body}\n    return locals()\n", namespace)
    import os

    cwd = os.getcwd()
    os.chdir(base)  # runner storages pull under the working directory by default
    try:
        return asyncio.run(namespace["__example__"]())
    finally:
        os.chdir(cwd)


def _git_hosts(service: GitService) -> dict[str, str]:
    return {f"https://{host}/org/": f"{service.base}/" for host in ("github.com", "gitlab.com", "bitbucket.com",
                                                                     "bitbucket.org")}


def test_runner_storage_api_git_example(git_http_service: GitService, tmp_path: Path) -> None:
    git_http_service.repo("repo").commit({"flow.py": "print('x')\n"})
    result = run_example(
        """
        from prefect.runner.storage import GitRepository

        storage = GitRepository(
            url="https://github.com/org/repo.git",
            credentials={"username": "oauth2", "access_token": "my-access-token"},
        )

        await storage.pull_code()
        """,
        {**_git_hosts(git_http_service), "my-access-token": git_http_service.token},
        tmp_path,
    )
    assert (result["storage"].destination / "flow.py").exists()


@pytest.fixture
def my_bucket(moto_endpoint: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)  # s3fs/botocore read it: the example stays unchanged
    client = s3_client(moto_endpoint)
    existing = [b["Name"] for b in client.list_buckets()["Buckets"]]
    if "my-bucket" not in existing:
        client.create_bucket(Bucket="my-bucket")
    client.put_object(Bucket="my-bucket", Key="my-folder/my_file.py", Body=b"print('from s3')\n")
    return "my-bucket"


def test_runner_storage_api_remote_examples(my_bucket: str, tmp_path: Path) -> None:
    from prefect_storage.blocks.system import Secret

    result = run_example(
        """
        from prefect.runner.storage import RemoteStorage

        storage = RemoteStorage(url="s3://my-bucket/my-folder")

        await storage.pull_code()
        """, {}, tmp_path,
    )
    assert (result["storage"].destination / "my_file.py").read_text() == "print('from s3')\n"

    Secret(value="testing").save("my-aws-access-key", overwrite=True)
    Secret(value="testing").save("my-aws-secret-key", overwrite=True)
    result = run_example(
        """
        from prefect.runner.storage import RemoteStorage
        from prefect.blocks.system import Secret

        storage = RemoteStorage(
            url="s3://my-bucket/my-folder",
            # Use Secret blocks to keep credentials out of your code
            key=Secret.load("my-aws-access-key"),
            secret=Secret.load("my-aws-secret-key"),
        )

        await storage.pull_code()
        """, {}, tmp_path,
    )
    assert (result["storage"].destination / "my_file.py").exists()
    assert "{{ prefect.blocks.secret.my-aws-access-key }}" in str(result["storage"].to_pull_step())


def test_local_storage_example(tmp_path: Path) -> None:
    folder = tmp_path / "flow_directory"
    folder.mkdir()
    result = run_example(
        """
        from prefect.runner.storage import LocalStorage
        storage = LocalStorage(
            path="/path/to/local/flow_directory",
        )
        """, {"/path/to/local/flow_directory": str(folder)}, tmp_path,
    )
    assert result["storage"].destination == folder


@pytest.mark.parametrize("forge, block_import, block_cls, slug", [
    ("github.com", "from prefect_github import GitHubCredentials", "GitHubCredentials", "github"),
    ("gitlab.com", "from prefect_gitlab import GitLabCredentials", "GitLabCredentials", "gitlab"),
    ("bitbucket.com", "from prefect_bitbucket import BitBucketCredentials", "BitBucketCredentials", "bitbucket"),
])
def test_code_storage_private_repo_examples(forge: str, block_import: str, block_cls: str, slug: str,
                                            git_http_service: GitService, tmp_path: Path) -> None:
    """The credentials-block and Secret-block examples for each forge."""
    import importlib

    from prefect_storage.blocks.system import Secret

    git_http_service.repo("my-private-repo").commit({f"{slug}_flow.py": "print('private')\n"})
    module = importlib.import_module(INTEGRATIONS[block_import.split()[1]])
    getattr(module, block_cls)(token=git_http_service.token).save(f"my-{slug}-credentials-block", overwrite=True)
    Secret(value=git_http_service.token).save(f"my-secret-block-with-my-{slug[:2]}-credentials", overwrite=True)
    hosts = _git_hosts(git_http_service)
    with_block = run_example(
        f"""
        from prefect.runner.storage import GitRepository
        {block_import}

        repo = GitRepository(
            url="https://{forge}/org/my-private-repo.git",
            credentials={block_cls}.load("my-{slug}-credentials-block"),
        )
        await repo.pull_code()
        """, hosts, tmp_path,
    )
    assert (with_block["repo"].destination / f"{slug}_flow.py").exists()
    assert f"prefect.blocks.{slug}-credentials.my-{slug}-credentials-block" in str(with_block["repo"].to_pull_step())
    (tmp_path / "secret").mkdir()
    with_secret = run_example(
        f"""
        from prefect.runner.storage import GitRepository
        from prefect.blocks.system import Secret

        repo = GitRepository(
            url="https://{forge}/org/my-private-repo.git",
            credentials={{
                "access_token": Secret.load("my-secret-block-with-my-{slug[:2]}-credentials")
            }},
        )
        await repo.pull_code()
        """, hosts, tmp_path / "secret",
    )
    assert (with_secret["repo"].destination / f"{slug}_flow.py").exists()


def test_code_storage_s3_block_example(my_bucket: str, moto_endpoint: str, tmp_path: Path) -> None:
    from prefect_storage.blocks.aws import AwsCredentials, S3Bucket
    from prefect_storage.runner.storage import BlockStorageAdapter

    AwsCredentials(aws_access_key_id="testing", aws_secret_access_key="testing").save("my-credentials-block",
                                                                                     overwrite=True)
    S3Bucket(bucket_name="my-bucket", bucket_folder="my-folder",
             credentials=AwsCredentials.load("my-credentials-block")).save("my-code-storage-block", overwrite=True)
    result = run_example(
        """
        from prefect_aws.s3 import S3Bucket
        from prefect_aws import AWSCredentials

        s3_bucket_block = S3Bucket.load("my-code-storage-block")
        # or:
        other = S3Bucket(
            bucket="my-bucket",
            folder="my-folder",
            credentials=AWSCredentials.load("my-credentials-block")
        )
        """, {}, tmp_path,
    )
    adapter = BlockStorageAdapter(result["s3_bucket_block"])  # what flow.from_source(source=block) does
    adapter.set_base_path(tmp_path)
    adapter.pull_code_sync()
    assert (adapter.destination / "my_file.py").exists()
    assert result["other"].bucket_name == "my-bucket"


def test_secrets_page_cli_then_load(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from prefect_storage.cli import cli

    created = CliRunner().invoke(cli, ["block", "create", "secret", "polars-cloud-client-id"], input="client-123\n")
    assert created.exit_code == 0, created.output
    result = run_example(
        """
        from prefect.blocks.system import Secret
        client_id = Secret.load("polars-cloud-client-id").get()
        """, {}, tmp_path,
    )
    assert result["client_id"] == "client-123"
