"""Runner storage logic that needs no service: validation, naming, URL rules, pull steps,
token conventions, the scheme map, the local mirror and the classic bridge."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

import prefect_storage.runner as runner_pkg
from prefect_storage.backends.git import GitAuth
from prefect_storage.backends.schemes import SCHEMES, lookup
from prefect_storage.exceptions import (
    BackendNotInstalledError,
    NoSourceError,
    StorageConfigError,
    UnknownSchemeError,
)
from prefect_storage.runner.git import format_git_auth
from prefect_storage.runner.storage import (
    BlockStorageAdapter,
    GitRepository,
    LocalStorage,
    RemoteStorage,
    RunnerStorage,
    create_storage_from_source,
)


def test_both_import_paths_and_the_protocol() -> None:
    assert runner_pkg.GitRepository is GitRepository
    for storage in (GitRepository("https://h/o/r.git"), RemoteStorage("s3://b/f"), LocalStorage("."),
                    BlockStorageAdapter(_FakeBlock())):
        assert isinstance(storage, RunnerStorage)


def test_git_repository_validation_and_naming(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="access token or password"):
        GitRepository("https://h/o/r.git", credentials={"username": "u"})
    with pytest.raises(ValueError, match="both a branch and a commit"):
        GitRepository("https://h/o/r.git", branch="main", commit_sha="abcd")
    with pytest.raises(ValueError, match="cannot start with '-'"):
        GitRepository("https://h/o/r.git", branch="--upload-pack=x")
    with pytest.raises(ValueError, match="use the 'branch' parameter"):
        GitRepository("https://h/o/r.git", commit_sha="v1.0")
    with pytest.warns(UserWarning, match="starts with '--'"):
        GitRepository("https://h/o/r.git", directories=["--x"])
    repo = GitRepository("https://github.com/org/repo.git", branch="feature/x")
    repo.set_base_path(tmp_path)
    assert repo.destination == tmp_path / "repo-feature-x"
    assert GitRepository("git@github.com:org/repo.git").destination.name == "repo"
    assert GitRepository("https://h/o/r.git", commit_sha="abcd") != GitRepository("https://h/o/r.git", commit_sha="abce")


def test_git_pull_step_never_holds_a_secret() -> None:
    class SavedSecret:
        def get(self) -> str:
            return "tok"

        def get_block_placeholder(self) -> str:
            return "prefect.blocks.secret.gh"

    step = GitRepository("https://user:embedded-tok3n@h/o/r.git", credentials={"access_token": SavedSecret()},
                         directories=["flows"], include_submodules=True, name="custom").to_pull_step()
    assert step == {"prefect.deployments.steps.git_clone": {
        "repository": "https://h/o/r.git", "branch": None, "clone_directory_name": "custom", "directories": ["flows"],
        "include_submodules": True, "credentials": {"access_token": "{{ prefect.blocks.secret.gh }}"}}}
    with pytest.raises(ValueError, match="Secret block"):
        GitRepository("https://h/o/r.git", credentials={"access_token": "literal"}).to_pull_step()


def test_forge_token_conventions() -> None:
    assert format_git_auth("github.com", "ghp") == GitAuth("x-access-token", "ghp")
    assert format_git_auth("gitlab.com", "glpat") == GitAuth("oauth2", "glpat")
    assert format_git_auth("gitlab.example.com", "oauth2:glpat") == GitAuth("oauth2", "glpat")
    assert format_git_auth("gitlab.com", "deploy:gldt") == GitAuth("deploy", "gldt")
    assert format_git_auth("bitbucket.org", "abc") == GitAuth("x-token-auth", "abc")
    assert format_git_auth("bitbucket.org", "x-token-auth:abc") == GitAuth("x-token-auth", "abc")
    assert format_git_auth("bitbucketserver.example.com", "me:pw") == GitAuth("me", "pw")
    with pytest.raises(StorageConfigError, match="Bitbucket Server"):
        format_git_auth("bitbucketserver.example.com", "pw")
    assert format_git_auth("anything", "t", username="bot") == GitAuth("bot", "t")


def test_create_storage_from_source_rules(tmp_path: Path) -> None:
    assert isinstance(create_storage_from_source("https://example.com/org/repo.git"), GitRepository)
    assert isinstance(create_storage_from_source("https://github.com/org/repo"), GitRepository)  # no .git needed
    assert isinstance(create_storage_from_source("git@github.com:org/repo.git"), GitRepository)
    assert isinstance(create_storage_from_source("git+https://example.com/org/repo"), GitRepository)
    assert isinstance(create_storage_from_source("s3://bucket/folder"), RemoteStorage)
    assert isinstance(create_storage_from_source("gcs://bucket/folder"), RemoteStorage)
    assert isinstance(create_storage_from_source("abfss://c@acct.dfs.core.windows.net/f"), RemoteStorage)
    local = create_storage_from_source(f"file://{tmp_path}")
    assert isinstance(local, LocalStorage) and local.destination == tmp_path
    assert isinstance(create_storage_from_source(str(tmp_path)), LocalStorage)
    with pytest.raises(UnknownSchemeError, match="s3://.*gs://"):
        create_storage_from_source("s4://typo/folder")


def test_scheme_map_install_hints() -> None:
    assert lookup("gs").package == "gcsfs" and lookup("gcs").extra == "gcs"
    assert lookup("abfs").package == lookup("az").package == "adlfs"
    assert "prefect-storage[s3]" in lookup("s3").install_hint()
    assert {"s3", "gs", "gcs", "az", "abfs", "abfss", "file"} <= set(SCHEMES)
    from prefect_storage.backends.schemes import Scheme, ensure_installed

    with pytest.raises(BackendNotInstalledError, match=r"prefect-storage\[nope\]"):
        ensure_installed(Scheme("zz", "fsspec", "zz", "no_such_module_xyz", "nope", "ZZ"))


def test_remote_storage_destination_and_pull_step(tmp_path: Path) -> None:
    storage = RemoteStorage("s3://my-bucket/my-folder", key="$AWS_KEY", client_kwargs={"endpoint_url": "http://x"})
    storage.set_base_path(tmp_path)
    assert storage.destination == tmp_path / "my-bucket" / "my-folder"
    assert storage.to_pull_step() == {"prefect.deployments.steps.pull_from_remote_storage": {
        "url": "s3://my-bucket/my-folder", "key": "$AWS_KEY", "client_kwargs": {"endpoint_url": "http://x"},
        "requires": "s3fs"}}


def test_local_mirror_is_incremental_and_deleting(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "pkg" / "a.py").write_text("a")
    (source / "b.py").write_text("b")
    storage = RemoteStorage(f"file://{source}")
    storage.set_base_path(tmp_path / "base")
    asyncio.run(storage.pull_code())
    assert storage.last_result is not None and sorted(storage.last_result.downloaded) == ["b.py", "pkg/a.py"]
    storage.pull_code_sync()
    assert storage.last_result.downloaded == []
    (source / "pkg" / "a.py").unlink()
    os.utime(source / "b.py", (1, 1))
    storage.pull_code_sync()
    assert storage.last_result.deleted == ["pkg/a.py"] and storage.last_result.downloaded == ["b.py"]
    assert not (storage.destination / "pkg").exists()


def test_local_storage() -> None:
    storage = LocalStorage("~/flows")
    assert storage.destination == Path("~/flows").expanduser().resolve()
    storage.pull_code_sync()
    assert storage.to_pull_step() == {
        "prefect.deployments.steps.set_working_directory": {"directory": str(storage.destination)}
    }
    assert storage.pull_interval is None


class _FakeBlock:
    """A foreign block (the Prefect 2/3 protocol only)."""

    def __init__(self) -> None:
        self.calls: list[str | None] = []

    def get_directory(self, from_path: str | None = None, local_path: str | None = None) -> None:
        self.calls.append(local_path)
        Path(local_path or ".", "flow.py").write_text("x")


def test_block_storage_adapter(tmp_path: Path) -> None:
    block = _FakeBlock()
    adapter = BlockStorageAdapter(block)
    adapter.set_base_path(tmp_path)
    (adapter.destination).mkdir(parents=True)
    (adapter.destination / "stale.py").write_text("old")
    adapter.pull_code_sync()
    assert sorted(p.name for p in adapter.destination.iterdir()) == ["flow.py"]  # foreign blocks: emptied first
    with pytest.raises(ValueError, match="saved"):
        adapter.to_pull_step()
    with pytest.raises(StorageConfigError, match="get_directory"):
        BlockStorageAdapter(object())


def test_classic_storages_to_pull_steps(tmp_path: Path) -> None:
    from prefect_storage.storage import GCS, S3, Azure, Bitbucket, Git, GitHub, Local, Module, Webhook

    script = tmp_path / "flows" / "etl.py"
    local = Local(path=str(script), stored_as_script=True)
    assert local.to_pull_step() == {"prefect.deployments.steps.set_working_directory": {"directory": str(script.parent)}}
    assert local.entrypoint("etl") == "etl.py:etl"
    with pytest.raises(NoSourceError, match="pickled"):
        Local(directory=str(tmp_path)).to_pull_step()
    git = Git(flow_path="flows/etl.py", repo="org/repo", git_token_secret_name="GITHUB_TOKEN", tag="v1")
    assert git.to_pull_step() == {"prefect.deployments.steps.git_clone": {
        "repository": "https://github.com/org/repo.git", "branch": "v1", "directories": ["flows"],
        "credentials": {"access_token": "${GITHUB_TOKEN}"}}}
    assert git.entrypoint("etl") == "flows/etl.py:etl"
    github = GitHub(repo="org/repo", path="etl.py", ref="a" * 40, access_token_secret="GH")
    assert github.to_runner_storage()._commit_sha == "a" * 40  # type: ignore[attr-defined]
    s3 = S3(bucket="b", key="deploy/etl.py", stored_as_script=True)
    assert s3.to_pull_step()["prefect.deployments.steps.pull_from_remote_storage"]["url"] == "s3://b/deploy"
    assert GCS(bucket="b", key="x/f.py", stored_as_script=True).to_runner_storage() == RemoteStorage("gs://b/x")
    assert "az://c/d" in str(Azure(container="c", blob_name="d/f.py", stored_as_script=True).to_pull_step())
    bb = Bitbucket(project="PRJ", repo="r", host="https://bitbucket.example.com", path="f.py", access_token_secret="BB")
    assert bb.to_pull_step()["prefect.deployments.steps.git_clone"]["repository"] == (
        "https://bitbucket.example.com/scm/prj/r.git")
    assert Module("pkg.flows").entrypoint("x") == "pkg.flows"
    with pytest.raises(NoSourceError, match="one payload"):
        Webhook(build_request_kwargs={"url": "http://h"}, build_request_http_method="POST",
                get_flow_request_kwargs={"url": "http://h"}, get_flow_request_http_method="GET").to_pull_step()


def test_pull_sync_for_ours_and_foreign_storages(tmp_path: Path) -> None:
    from prefect_storage.runner.storage import pull_sync

    class Foreign:
        pulled = False

        async def pull_code(self) -> None:
            Foreign.pulled = True

    pull_sync(Foreign())  # type: ignore[arg-type]
    assert Foreign.pulled
    source = tmp_path / "src"
    source.mkdir()
    (source / "f.py").write_text("x")
    storage = RemoteStorage(f"file://{source}")
    storage.set_base_path(tmp_path / "base")
    pull_sync(storage)
    assert (storage.destination / "f.py").read_text() == "x"
