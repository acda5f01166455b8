"""GitRepository against the git smart-HTTP server (token) and a private sshd (deploy key)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import subprocess
from pathlib import Path

import pytest

from prefect_storage.exceptions import StorageAuthError
from prefect_storage.runner.storage import GitRepository, create_storage_from_source
from tests.services.git import GitService, git

pytestmark = pytest.mark.integration


def _requests(service: GitService) -> list[tuple[str, str]]:
    return [tuple(line.split()[:2]) for line in service.stats_lines()]  # type: ignore[misc]


def _reset_stats(service: GitService) -> None:
    assert service.stats is not None
    service.stats.write_text("")


@pytest.fixture
def git_argv_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``git`` shim first on PATH that logs every argv, then runs the real git."""
    real = subprocess.run(["which", "git"], capture_output=True, text=True, check=True).stdout.strip()
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    log = tmp_path / "argv.log"
    shim = shim_dir / "git"
    shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {real} "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{shim_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def _leaks(token: str, *places: Path) -> list[str]:
    found = []
    for place in places:
        files = [place] if place.is_file() else [p for p in place.rglob("*") if p.is_file()]
        for path in files:
            if token.encode() in path.read_bytes():
                found.append(str(path))
    return found


@pytest.mark.parametrize("form", ["dict", "secret-in-dict", "secret-block", "credentials-block"])
def test_private_repo_with_each_credentials_form(form: str, git_http_service: GitService, tmp_path: Path,
                                                 git_argv_log: Path, caplog: pytest.LogCaptureFixture) -> None:
    from prefect_storage.blocks.github import GitHubCredentials
    from prefect_storage.blocks.system import Secret

    token = git_http_service.token
    repo = git_http_service.repo(f"private-{form}")
    repo.commit({"flows/etl.py": "print('etl')\n", "README.md": "hi\n"})
    if form == "dict":
        credentials: object = {"username": "ci-bot", "access_token": token}
    elif form == "secret-in-dict":
        Secret(value=token).save("my-secret-block-with-my-gh-credentials", overwrite=True)
        credentials = {"access_token": Secret.load("my-secret-block-with-my-gh-credentials")}
    elif form == "secret-block":
        Secret(value=token).save("gh-token", overwrite=True)
        credentials = Secret.load("gh-token")
    else:
        GitHubCredentials(token=token).save("my-github-credentials-block", overwrite=True)
        credentials = GitHubCredentials.load("my-github-credentials-block")
    storage = GitRepository(url=git_http_service.url(f"private-{form}"), credentials=credentials)
    storage.set_base_path(tmp_path / "runs")
    caplog.set_level(logging.DEBUG, logger="prefect_storage")
    asyncio.run(storage.pull_code())
    assert (storage.destination / "flows" / "etl.py").read_text() == "print('etl')\n"
    # the token is nowhere: checkout (.git/config included), argv, logs, pull step
    assert _leaks(token, tmp_path / "runs", git_argv_log) == []
    assert token not in caplog.text
    if form == "dict":
        with pytest.raises(ValueError, match="Secret block"):
            storage.to_pull_step()
    else:
        step = json.dumps(storage.to_pull_step())
        assert token not in step and "{{ prefect.blocks." in step


def test_repeat_pull_of_unchanged_ref_fetches_nothing(git_http_service: GitService, tmp_path: Path) -> None:
    repo = git_http_service.repo("incremental")
    repo.commit({"a.py": "a = 1\n", "old.py": "x\n", "big.bin": os.urandom(200_000)})
    storage = GitRepository(url=git_http_service.url("incremental"), credentials={"access_token": git_http_service.token})
    storage.set_base_path(tmp_path)
    storage.pull_code_sync()
    _reset_stats(git_http_service)
    storage.pull_code_sync()
    # the ref is resolved (protocol v2: capabilities, then one ls-refs); no fetch, no pack
    assert _requests(git_http_service) == [("GET", "/incremental.git/info/refs"),
                                           ("POST", "/incremental.git/git-upload-pack")]
    assert git_http_service.stats is not None
    assert sum(int(line.split()[3]) for line in git_http_service.stats_lines()) < 1000

    # one new commit: fetched alone (the 200 kB blob is not sent again), deletes applied
    new = repo.commit({"a.py": "a = 2\n", "old.py": None, "b.py": "b\n"})
    _reset_stats(git_http_service)
    storage.pull_code_sync()
    assert (storage.destination / "a.py").read_text() == "a = 2\n"
    assert not (storage.destination / "old.py").exists()
    assert git("rev-parse", "HEAD", cwd=storage.destination) == new
    assert git_http_service.stats is not None
    sent = sum(int(line.split()[3]) for line in git_http_service.stats_lines())
    assert sent < 20_000, sent


def test_concurrent_pulls_into_one_destination(git_http_service: GitService, tmp_path: Path) -> None:
    import concurrent.futures

    repo = git_http_service.repo("concurrent")
    repo.commit({f"m{i}.py": f"x = {i}\n" for i in range(20)})

    def pull() -> str:
        storage = GitRepository(url=git_http_service.url("concurrent"),
                                credentials={"access_token": git_http_service.token})
        storage.set_base_path(tmp_path)
        storage.pull_code_sync()
        return git("rev-parse", "HEAD", cwd=storage.destination)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        heads = list(pool.map(lambda _: pull(), range(4)))
    assert len(set(heads)) == 1
    assert len(list((tmp_path / "concurrent").glob("m*.py"))) == 20


def test_wrong_token_is_a_typed_auth_error_without_the_secret(git_http_service: GitService, tmp_path: Path) -> None:
    git_http_service.repo("guarded").commit({"a.py": "a\n"})
    url = git_http_service.url("guarded")
    storage = GitRepository(url=url, credentials={"access_token": "ghp_wrongwrongwrong123"})
    storage.set_base_path(tmp_path)
    with pytest.raises(StorageAuthError) as info:
        storage.pull_code_sync()
    assert url in str(info.value)
    assert "ghp_wrongwrongwrong123" not in str(info.value)


def test_sparse_directories_commit_pin_and_branch(git_http_service: GitService, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    repo = git_http_service.repo("mono")
    first = repo.commit({"flows/etl/f.py": "v1\n", "flows/ml/m.py": "m\n", "docs/big.bin": os.urandom(100_000),
                         "top.txt": "top\n"})
    repo.commit({"flows/etl/f.py": "v2\n"})
    repo.commit({"flows/etl/f.py": "dev\n"}, branch="dev")
    monkeypatch.setenv("GIT_TOKEN", git_http_service.token)
    creds = {"access_token": "$GIT_TOKEN"}  # an env template: resolved at pull time, kept as is in the step
    url = git_http_service.url("mono")

    sparse = GitRepository(url=url, credentials=creds, directories=["flows/etl"], branch="main")
    sparse.set_base_path(tmp_path)
    sparse.pull_code_sync()
    assert sparse.destination.name == "mono-main"
    assert (sparse.destination / "flows/etl/f.py").read_text() == "v2\n"
    assert not (sparse.destination / "docs").exists() and not (sparse.destination / "flows/ml").exists()

    pinned = GitRepository(url=url, credentials=creds, commit_sha=first, name="pinned")
    pinned.set_base_path(tmp_path)
    pinned.pull_code_sync()
    assert (pinned.destination / "flows/etl/f.py").read_text() == "v1\n"
    step = pinned.to_pull_step()["prefect.deployments.steps.git_clone"]
    assert step["commit_sha"] == first and step["credentials"] == {"access_token": "$GIT_TOKEN"}

    dev = GitRepository(url=url, credentials=creds, branch="dev")
    dev.set_base_path(tmp_path)
    dev.pull_code_sync()
    assert (dev.destination / "flows/etl/f.py").read_text() == "dev\n"


def test_submodules_with_the_same_credentials(git_http_service: GitService, tmp_path: Path) -> None:
    sub = git_http_service.repo("sublib")
    sub_commit = sub.commit({"lib.py": "LIB = 1\n"})
    main = git_http_service.repo("withsub")
    (main.work / ".gitmodules").write_text(
        f'[submodule "vendor/lib"]\n\tpath = vendor/lib\n\turl = {git_http_service.url("sublib")}\n'
    )
    git("update-index", "--add", "--cacheinfo", f"160000,{sub_commit},vendor/lib", cwd=main.work)
    (main.work / "vendor" / "lib").mkdir(parents=True)  # an uninitialised submodule: `add --all` keeps the gitlink
    main.commit({"flow.py": "from vendor.lib.lib import LIB\n"})
    storage = GitRepository(url=git_http_service.url("withsub"), credentials={"access_token": git_http_service.token},
                            include_submodules=True)
    storage.set_base_path(tmp_path)
    storage.pull_code_sync()
    assert (storage.destination / "vendor/lib/lib.py").read_text() == "LIB = 1\n"
    assert git_http_service.token.encode() not in (storage.destination / ".git" / "config").read_bytes()


def test_ssh_with_a_deploy_key(git_ssh_service: GitService | None, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import require_service

    require_service(git_ssh_service is not None, "sshd is not installed (apt-get install openssh-server)")
    assert git_ssh_service is not None and git_ssh_service.env is not None
    from prefect_storage.blocks.system import Secret

    work = Path(git_ssh_service.env["SSH_WORK_DIR"])
    git_ssh_service.repo("deploykey").commit({"flow.py": "print('ssh')\n"})
    # the machine knows the host, but has no key of its own: the key comes from a block
    monkeypatch.setenv("GIT_SSH_COMMAND", f"ssh -o UserKnownHostsFile={work / 'known_hosts'} "
                                          "-o StrictHostKeyChecking=yes -o BatchMode=yes -F /dev/null")
    key = (work / "client_key").read_text()
    Secret(value=key).save("deploy-key", overwrite=True)
    storage = GitRepository(url=git_ssh_service.url("deploykey"),
                            credentials={"ssh_private_key": Secret.load("deploy-key")})
    storage.set_base_path(tmp_path)
    storage.pull_code_sync()
    assert (storage.destination / "flow.py").read_text() == "print('ssh')\n"
    assert not list(tmp_path.glob(".deploy-key-*"))  # the key file is gone after the pull
    assert json.dumps(storage.to_pull_step()).count("prefect.blocks.secret.deploy-key") == 1

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    wrong = GitRepository(url=git_ssh_service.url("deploykey"), name="wrong",
                          credentials={"ssh_private_key": (tmp_path / "other").read_text()})
    wrong.set_base_path(tmp_path)
    with pytest.raises(StorageAuthError, match="deploykey"):
        wrong.pull_code_sync()


def test_ssh_with_the_machine_key_and_create_storage_from_source(git_ssh_service: GitService | None, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import require_service

    require_service(git_ssh_service is not None, "sshd is not installed (apt-get install openssh-server)")
    assert git_ssh_service is not None and git_ssh_service.env is not None
    monkeypatch.setenv("GIT_SSH_COMMAND", git_ssh_service.env["GIT_SSH_COMMAND"])
    git_ssh_service.repo("ambient").commit({"flow.py": "x\n"})
    storage = create_storage_from_source(git_ssh_service.url("ambient"))
    assert isinstance(storage, GitRepository)
    storage.set_base_path(tmp_path)
    storage.pull_code_sync()
    assert (storage.destination / "flow.py").read_text() == "x\n"
