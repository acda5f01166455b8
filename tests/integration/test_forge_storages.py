"""GitHub, GitLab, Bitbucket (Cloud and Server) and CodeCommit storages against the local forge."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from prefect_storage.exceptions import FlowNotFoundError, StorageAuthError, StorageConfigError
from prefect_storage.storage import Storage
from prefect_storage.storage.bitbucket import Bitbucket
from prefect_storage.storage.codecommit import CodeCommit
from prefect_storage.storage.github import GitHub
from prefect_storage.storage.gitlab import GitLab
from tests.conformance.flows import FLOW_NAME, final_value, flow_script
from tests.conformance.suite import ScriptConformance, StorageHarness
from tests.services.forge import ForgeService

KINDS = ["github", "gitlab", "bitbucket-cloud", "bitbucket-server", "codecommit"]


def make_storage(kind: str, forge: ForgeService, owner: str, slug: str, path: str, ref: str | None = None) -> Storage:
    if kind == "github":
        return GitHub(repo=f"{owner}/{slug}", path=path, ref=ref, access_token_secret="FORGE_TOKEN",
                      base_url=forge.base + "/api/v3")
    if kind == "gitlab":
        return GitLab(repo=f"{owner}/{slug}", host=forge.base, path=path, ref=ref, access_token_secret="FORGE_TOKEN")
    if kind == "bitbucket-cloud":
        return Bitbucket(project=owner.upper(), repo=slug, workspace=owner, host=forge.base, path=path, ref=ref,
                         cloud_username_secret="BB_USER", cloud_app_password_secret="FORGE_TOKEN")
    if kind == "bitbucket-server":
        return Bitbucket(project=owner.upper(), repo=slug, host=forge.base, path=path, ref=ref,
                         access_token_secret="FORGE_TOKEN")
    options = {"endpoint_url": forge.base, "region_name": "us-east-1",
               "aws_access_key_id": "${CC_KEY}", "aws_secret_access_key": "${CC_SECRET}"}
    return CodeCommit(repo=slug, path=path, commit=ref, client_options=options)


class ForgeHarness(StorageHarness):
    def __init__(self, kind: str, forge: ForgeService, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.kind, self.forge = kind, forge
        self.owner, self.slug = "acme", f"conf-{uuid.uuid4().hex[:10]}"
        self.writer = forge.repo(f"{self.owner}/{self.slug}")

    def _commit(self, script_path: Path) -> str:
        return self.writer.commit({f"flows/{script_path.name}": script_path.read_text()})

    def script_storage(self, script_path: Path, **kwargs: Any) -> Storage:
        self._commit(script_path)
        storage = make_storage(self.kind, self.forge, self.owner, self.slug, f"flows/{script_path.name}")
        Storage.__init__(storage, stored_as_script=True, **kwargs)
        return storage

    def publish_script(self, storage: Storage, script_path: Path) -> None:
        self._commit(script_path)

    def templated_storage(self, monkeypatch: pytest.MonkeyPatch, script_path: Path | None = None) -> tuple[Storage, str]:
        assert script_path is not None
        storage = self.script_storage(script_path)
        return storage, self.forge.aws_secret if self.kind == "codecommit" else self.forge.token

    def subprocess_env(self) -> dict[str, str]:
        return env_for(self.forge)


def env_for(forge: ForgeService) -> dict[str, str]:
    return {"FORGE_TOKEN": forge.token, "BB_USER": "builder", "CC_KEY": forge.aws_key, "CC_SECRET": forge.aws_secret}


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def forge(forge_service: ForgeService, monkeypatch: pytest.MonkeyPatch) -> ForgeService:
    for key, value in env_for(forge_service).items():
        monkeypatch.setenv(key, value)
    return forge_service


@pytest.fixture
def harness(kind: str, forge: ForgeService, tmp_path: Path) -> ForgeHarness:
    return ForgeHarness(kind, forge, tmp_path)


class TestForgeConformance(ScriptConformance):
    pass


def loaded(storage: Storage, path: str) -> Storage:
    storage.flows[FLOW_NAME] = path
    return storage


def test_refs_resolve_to_the_right_commit(kind: str, forge: ForgeService) -> None:
    writer = forge.repo(f"acme/refs-{uuid.uuid4().hex[:8]}")
    slug = writer.name.split("/")[1]
    first = writer.commit({"flows/f.py": flow_script(value=1)})
    writer.tag("v1", annotated=True)
    writer.commit({"flows/f.py": flow_script(value=2)}, branch="dev")
    writer.switch("main")
    writer.commit({"flows/f.py": flow_script(value=3)})
    cases = [(None, 6), ("main", 6), ("dev", 4), ("v1", 2), (first, 2)]
    for ref, value in cases:
        storage = loaded(make_storage(kind, forge, "acme", slug, "flows/f.py", ref), "flows/f.py")
        assert final_value(storage.get_flow(FLOW_NAME)) == value, (kind, ref)


def test_wrong_token_is_an_auth_error(kind: str, forge: ForgeService, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = forge.repo(f"acme/auth-{uuid.uuid4().hex[:8]}")
    writer.commit({"flows/f.py": flow_script()})
    monkeypatch.setenv("FORGE_TOKEN", "wrong-token-123")
    monkeypatch.setenv("CC_SECRET", "wrong-secret-123")
    storage = loaded(make_storage(kind, forge, "acme", writer.name.split("/")[1], "flows/f.py"), "flows/f.py")
    with pytest.raises(StorageAuthError) as info:
        storage.get_flow(FLOW_NAME)
    assert "wrong-token-123" not in str(info.value) and "wrong-secret-123" not in str(info.value)


def test_unknown_ref_and_file_are_not_found_errors(kind: str, forge: ForgeService) -> None:
    writer = forge.repo(f"acme/missing-{uuid.uuid4().hex[:8]}")
    slug = writer.name.split("/")[1]
    writer.commit({"flows/f.py": flow_script()})
    storage = loaded(make_storage(kind, forge, "acme", slug, "flows/f.py", "no-such-ref"), "flows/f.py")
    with pytest.raises(FlowNotFoundError, match="no-such-ref"):
        storage.get_flow(FLOW_NAME)
    storage = loaded(make_storage(kind, forge, "acme", slug, "flows/missing.py"), "flows/missing.py")
    with pytest.raises(FlowNotFoundError, match=r"missing\.py"):
        storage.get_flow(FLOW_NAME)


TRANSPORTS = {
    "github": "prefect_storage.backends.github.GitHubRepo",
    "gitlab": "prefect_storage.backends.gitlab.GitLabProject",
    "bitbucket-cloud": "prefect_storage.backends.bitbucket.BitbucketCloudRepo",
    "bitbucket-server": "prefect_storage.backends.bitbucket.BitbucketServerRepo",
    "codecommit": "prefect_storage.backends.codecommit.CodeCommitRepo",
}


def test_file_is_read_once_per_commit(kind: str, forge: ForgeService, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    module, _, name = TRANSPORTS[kind].rpartition(".")
    transport = getattr(importlib.import_module(module), name)
    reads: list[str] = []
    original = transport.read
    monkeypatch.setattr(transport, "read", lambda self, path, commit: (reads.append(commit), original(self, path, commit))[1])
    writer = forge.repo(f"acme/cache-{uuid.uuid4().hex[:8]}")
    writer.commit({"flows/f.py": flow_script(value=1)})
    storage = loaded(make_storage(kind, forge, "acme", writer.name.split("/")[1], "flows/f.py"), "flows/f.py")
    assert final_value(storage.get_flow(FLOW_NAME)) == 2
    assert final_value(storage.get_flow(FLOW_NAME)) == 2
    assert len(reads) == 1
    writer.commit({"flows/f.py": flow_script(value=4)})
    assert final_value(storage.get_flow(FLOW_NAME)) == 8
    assert len(reads) == 2 and reads[0] != reads[1]


def test_github_reads_files_over_the_inline_limit(forge: ForgeService) -> None:
    writer = forge.repo(f"acme/big-{uuid.uuid4().hex[:8]}")
    padding = "# " + "x" * 1_300_000 + "\n"
    writer.commit({"flows/big.py": padding + flow_script(value=6)})
    storage = loaded(make_storage("github", forge, "acme", writer.name.split("/")[1], "flows/big.py"), "flows/big.py")
    assert final_value(storage.get_flow(FLOW_NAME)) == 12


def test_classic_constructor_rules() -> None:
    with pytest.raises(ValueError, match="`access_token_secret` and `workspace` are both set"):
        Bitbucket(project="P", repo="r", workspace="w", access_token_secret="T")
    assert all(s.stored_as_script for s in (GitHub(repo="o/r", path="f.py"), GitLab(repo="o/r", path="f.py"),
                                            Bitbucket(project="P", repo="r", path="f.py"), CodeCommit(repo="r", path="f.py")))
    with pytest.raises(StorageConfigError):
        GitHub(repo="o/r", path="")
    literal = CodeCommit(repo="r", path="f.py", client_options={"aws_secret_access_key": "literal-secret", "region_name": "x"})
    assert "literal-secret" not in str(literal.serialize())


@pytest.mark.parametrize(("kind", "variable"), [("github", "GITHUB_ACCESS_TOKEN"), ("gitlab", "GITLAB_ACCESS_TOKEN"),
                                                ("bitbucket-server", "BITBUCKET_ACCESS_TOKEN")])
def test_classic_token_fallback_variable(kind: str, variable: str, forge: ForgeService,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    writer = forge.repo(f"acme/env-{uuid.uuid4().hex[:8]}")
    writer.commit({"flows/f.py": flow_script(value=2)})
    monkeypatch.setenv(variable, forge.token)
    storage = make_storage(kind, forge, "acme", writer.name.split("/")[1], "flows/f.py")
    storage.access_token_secret = None
    assert final_value(loaded(storage, "flows/f.py").get_flow(FLOW_NAME)) == 4


def test_github_missing_things_are_also_unknown_object_exceptions(forge: ForgeService) -> None:
    # Issue 10 item 15: classic GitHub storage let github.UnknownObjectException through, and
    # named the ref the user gave (not only the commit it resolved to).
    import github

    writer = forge.repo(f"acme/unknown-{uuid.uuid4().hex[:8]}")
    slug = writer.name.split("/")[1]
    writer.commit({"flows/f.py": flow_script()})
    for path, ref in (("flows/f.py", "no-such-ref"), ("flows/missing.py", "main")):
        storage = loaded(make_storage("github", forge, "acme", slug, path, ref), path)
        with pytest.raises(github.UnknownObjectException) as info:
            storage.get_flow(FLOW_NAME)
        assert isinstance(info.value, FlowNotFoundError)
        assert repr(ref) in str(info.value)
