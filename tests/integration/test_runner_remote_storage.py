"""RemoteStorage and the storage blocks against moto S3, fake-gcs-server and Azurite.

Requests are counted at an HTTP proxy in front of each service, so "a repeat pull
transfers nothing" is checked on the wire, not by trusting the client.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from prefect_storage.exceptions import StorageAuthError
from prefect_storage.runner.storage import BlockStorageAdapter, RemoteStorage
from tests.services._http_counter import CountingHTTPProxy
from tests.services.moto import REGION, s3_client

pytestmark = pytest.mark.integration

FILES = {
    "flows/etl.py": b"from prefect_storage import flow\n",
    "flows/lib/helpers.py": b"X = 1\n",
    "requirements.txt": b"requests\n",
    "data/empty.txt": b"",
    "README.md": b"# code\n" * 50,
}


def _port(url: str) -> int:
    return int(urllib.parse.urlsplit(url).port or 80)


@pytest.fixture
def s3_proxy(moto_endpoint: str) -> Iterator[CountingHTTPProxy]:
    with CountingHTTPProxy(_port(moto_endpoint)) as proxy:
        yield proxy


def _upload_s3(endpoint: str, bucket: str, folder: str, files: dict[str, bytes]) -> None:
    client = s3_client(endpoint)
    for name, data in files.items():
        client.put_object(Bucket=bucket, Key=f"{folder}/{name}", Body=data)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _object_gets(proxy: CountingHTTPProxy, bucket: str) -> list[str]:
    """GETs of objects (not listings) seen by the proxy."""
    return [r.path for r in proxy.requests if r.method == "GET" and "list-type" not in r.query
            and r.path.strip("/") != bucket]


def test_s3_incremental_pull_on_the_wire(s3_bucket: str, moto_endpoint: str, s3_proxy: CountingHTTPProxy,
                                         tmp_path: Path) -> None:
    _upload_s3(moto_endpoint, s3_bucket, "code", FILES)
    storage = RemoteStorage(
        f"s3://{s3_bucket}/code", key="testing", secret="testing",
        client_kwargs={"endpoint_url": s3_proxy.url, "region_name": REGION},
    )
    storage.set_base_path(tmp_path)
    asyncio.run(storage.pull_code())
    assert storage.destination == tmp_path / s3_bucket / "code"
    assert _tree(storage.destination) == FILES
    assert len(_object_gets(s3_proxy, s3_bucket)) == len(FILES)

    # a repeat pull of the unchanged folder: one list request, no GET
    s3_proxy.reset()
    storage.pull_code_sync()
    assert [(r.method, "list-type=2" in r.query) for r in s3_proxy.requests] == [("GET", True)]

    # change one file, add one, delete one; a file a run wrote itself stays
    (storage.destination / "flows" / "__pycache__").mkdir()
    (storage.destination / "flows" / "__pycache__" / "etl.pyc").write_bytes(b"run output")
    client = s3_client(moto_endpoint)
    client.put_object(Bucket=s3_bucket, Key="code/flows/etl.py", Body=b"changed\n")
    client.put_object(Bucket=s3_bucket, Key="code/new.py", Body=b"new\n")
    client.delete_object(Bucket=s3_bucket, Key="code/flows/lib/helpers.py")
    s3_proxy.reset()
    storage.pull_code_sync()
    assert sorted(_object_gets(s3_proxy, s3_bucket)) == [f"/{s3_bucket}/code/flows/etl.py", f"/{s3_bucket}/code/new.py"]
    expected = {**FILES, "flows/etl.py": b"changed\n", "new.py": b"new\n",
                "flows/__pycache__/etl.pyc": b"run output"}
    del expected["flows/lib/helpers.py"]
    assert _tree(storage.destination) == expected
    assert not (storage.destination / "flows" / "lib").exists()  # emptied folder removed
    assert storage.last_result is not None and storage.last_result.deleted == ["flows/lib/helpers.py"]

    # a local file removed by someone is fetched again (the manifest is not trusted blindly)
    (storage.destination / "README.md").unlink()
    storage.pull_code_sync()
    assert (storage.destination / "README.md").read_bytes() == FILES["README.md"]


def test_object_store_list_s3(s3_bucket: str, moto_endpoint: str) -> None:
    from prefect_storage.backends.s3 import S3Store

    _upload_s3(moto_endpoint, s3_bucket, "lst", {"b.py": b"bb", "a/c.py": b"c"})
    _upload_s3(moto_endpoint, s3_bucket, "other", {"x.py": b"x"})
    listed = S3Store(s3_bucket, {"endpoint_url": moto_endpoint}).list("lst/")
    assert [(o.key, o.size) for o in listed] == [("lst/a/c.py", 1), ("lst/b.py", 2)]
    assert all(o.validator.startswith('"') for o in listed)  # S3 ETags


def test_s3_settings_from_secret_blocks_and_templates(s3_bucket: str, moto_endpoint: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.blocks.system import Secret

    _upload_s3(moto_endpoint, s3_bucket, "f", {"a.py": b"a"})
    Secret(value="testing").save("my-aws-access-key", overwrite=True)
    monkeypatch.setenv("MY_AWS_SECRET", "testing")
    storage = RemoteStorage(
        url=f"s3://{s3_bucket}/f",
        key=Secret.load("my-aws-access-key"),
        secret="$MY_AWS_SECRET",
        client_kwargs={"endpoint_url": moto_endpoint},
    )
    storage.set_base_path(tmp_path)
    storage.pull_code_sync()
    assert (storage.destination / "a.py").read_bytes() == b"a"
    step = storage.to_pull_step()["prefect.deployments.steps.pull_from_remote_storage"]
    assert step == {
        "url": f"s3://{s3_bucket}/f",
        "key": "{{ prefect.blocks.secret.my-aws-access-key }}",
        "secret": "$MY_AWS_SECRET",
        "client_kwargs": {"endpoint_url": moto_endpoint},
        "requires": "s3fs",
    }


def test_s3_wrong_key_is_a_typed_auth_error_without_the_secret(moto_auth_endpoint: str, tmp_path: Path) -> None:
    storage = RemoteStorage(
        "s3://some-bucket/code", key="AKIAWRONGWRONGWRONG", secret="wrong-secret-value-123",
        client_kwargs={"endpoint_url": moto_auth_endpoint, "region_name": REGION},
    )
    storage.set_base_path(tmp_path)
    with pytest.raises(StorageAuthError) as info:
        storage.pull_code_sync()
    message = str(info.value)
    assert "s3://some-bucket/code" in message
    assert "wrong-secret-value-123" not in message


_PULLER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from prefect_storage.runner.storage import RemoteStorage
    storage = RemoteStorage(sys.argv[1], key="testing", secret="testing", client_kwargs={"endpoint_url": sys.argv[2]})
    storage.set_base_path(Path(sys.argv[3]))
    storage.pull_code_sync()
    print(len(list(storage.destination.rglob("*.py"))))
""")


def test_two_processes_pull_into_one_destination_at_once(s3_bucket: str, moto_endpoint: str, tmp_path: Path) -> None:
    files = {f"pkg/m{i:02d}.py": os.urandom(20_000) for i in range(12)}
    _upload_s3(moto_endpoint, s3_bucket, "many", files)
    script = tmp_path / "pull.py"
    script.write_text(_PULLER)
    base = tmp_path / "base"
    procs = [
        subprocess.Popen([sys.executable, str(script), f"s3://{s3_bucket}/many", moto_endpoint, str(base)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert [out.strip() for out, _ in outputs] == ["12", "12"]
    destination = base / s3_bucket / "many"
    assert _tree(destination) == files
    assert not [p for p in base.rglob("*.part")]


def test_s3_bucket_block_put_get_and_adapter(s3_bucket: str, moto_endpoint: str, s3_proxy: CountingHTTPProxy,
                                             tmp_path: Path) -> None:
    from prefect_storage.blocks.aws import AwsCredentials, S3Bucket

    source = tmp_path / "project"
    for name, data in FILES.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    (source / "secret.env").write_text("X=1")
    (source / ".prefectignore").write_text("*.env\n")
    AwsCredentials(
        aws_access_key_id="testing", aws_secret_access_key="testing",
        aws_client_parameters={"endpoint_url": s3_proxy.url}, region_name=REGION,
    ).save("aws-test", overwrite=True)
    S3Bucket(bucket_name=s3_bucket, credentials=AwsCredentials.load("aws-test"), bucket_folder="blk").save("code")
    block = S3Bucket.load("code")
    assert block.put_directory(local_path=str(source), ignore_file=str(source / ".prefectignore")) == len(FILES) + 1

    adapter = BlockStorageAdapter(block)
    adapter.set_base_path(tmp_path / "runs")
    adapter.pull_code_sync()
    assert _tree(adapter.destination) == {**FILES, ".prefectignore": b"*.env\n"}
    s3_proxy.reset()
    adapter.pull_code_sync()
    assert len(s3_proxy.requests) == 1 and not _object_gets(s3_proxy, s3_bucket)
    assert adapter.to_pull_step() == {
        "prefect.deployments.steps.pull_with_block": {"block_type_slug": "s3-bucket", "block_document_name": "code"}
    }


def _gcs_upload(endpoint: str, bucket: str, files: dict[str, bytes]) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="test", credentials=AnonymousCredentials(), client_options={"api_endpoint": endpoint})
    for name, data in files.items():
        client.bucket(bucket).blob(name).upload_from_string(data)


def test_gcs_remote_storage_incremental(gcs_bucket: str, gcs_endpoint: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _gcs_upload(gcs_endpoint, gcs_bucket, {f"code/{k}": v for k, v in FILES.items()})
    with CountingHTTPProxy(_port(gcs_endpoint)) as proxy:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.url)
        storage = RemoteStorage(f"gs://{gcs_bucket}/code", token="anon", project="test")
        storage.set_base_path(tmp_path)
        storage.pull_code_sync()
        assert _tree(storage.destination) == FILES
        proxy.reset()
        storage.pull_code_sync()
        assert len(proxy.requests) == 1 and proxy.requests[0].path.endswith("/o"), proxy.requests
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage as gcs

        gcs.Client(project="test", credentials=AnonymousCredentials(),
                   client_options={"api_endpoint": gcs_endpoint}).bucket(gcs_bucket).blob("code/README.md").delete()
        storage.pull_code_sync()
        assert not (storage.destination / "README.md").exists()
        from prefect_storage.backends.gcs import GCSStore

        listed = GCSStore(gcs_bucket, project="test").list("code/flows/")
        assert [o.key for o in listed] == ["code/flows/etl.py", "code/flows/lib/helpers.py"]
        assert all(o.validator.isdigit() for o in listed)  # generations


def test_gcs_bucket_block(gcs_bucket: str, gcs_endpoint: str, tmp_path: Path) -> None:
    from prefect_storage.blocks.gcp import GcpCredentials, GCSBucket

    source = tmp_path / "src"
    source.mkdir()
    (source / "flow.py").write_text("print('hi')\n")
    block = GCSBucket(bucket=gcs_bucket, folder="deploy", credentials=GcpCredentials(project="test"))
    assert block.put_directory(local_path=str(source)) == 1
    block.get_directory(local_path=str(tmp_path / "out"))
    assert (tmp_path / "out" / "flow.py").read_text() == "print('hi')\n"


def test_azure_remote_storage_and_block(azure_container: str, azurite_endpoint: str, tmp_path: Path) -> None:
    from azure.storage.blob import BlobServiceClient

    from prefect_storage.blocks.azure import AzureBlobCredentials, AzureBlobStorageContainer
    from tests.services.azurite import connection_string

    conn = connection_string(azurite_endpoint)
    container = BlobServiceClient.from_connection_string(conn).get_container_client(azure_container)
    for name, data in FILES.items():
        container.upload_blob(f"code/{name}", data)
    storage = RemoteStorage(f"az://{azure_container}/code", connection_string=conn)
    storage.set_base_path(tmp_path)
    storage.pull_code_sync()
    assert _tree(storage.destination) == FILES
    storage.pull_code_sync()
    assert storage.last_result is not None and storage.last_result.downloaded == []
    container.delete_blob("code/requirements.txt")
    storage.pull_code_sync()
    assert not (storage.destination / "requirements.txt").exists()

    wrong_key = "V3JvbmdXcm9uZ1dyb25nV3JvbmdXcm9uZ1dyb25nV3Jvbmc="
    wrong = RemoteStorage(f"az://{azure_container}/code", connection_string=connection_string(azurite_endpoint, wrong_key))
    wrong.set_base_path(tmp_path / "wrong")
    with pytest.raises(StorageAuthError) as info:
        wrong.pull_code_sync()
    assert f"az://{azure_container}/code" in str(info.value) and wrong_key not in str(info.value)

    from prefect_storage.backends.azure import AzureStore

    listed = AzureStore(azure_container, connection_string=conn).list("code/flows/")
    assert [(o.key, o.size) for o in listed] == [("code/flows/etl.py", len(FILES["flows/etl.py"])),
                                                 ("code/flows/lib/helpers.py", len(FILES["flows/lib/helpers.py"]))]
    block = AzureBlobStorageContainer(container=azure_container, folder="code",
                                      credentials=AzureBlobCredentials(connection_string=conn))
    block.get_directory(local_path=str(tmp_path / "blk"))
    assert "flows/etl.py" in _tree(tmp_path / "blk")
