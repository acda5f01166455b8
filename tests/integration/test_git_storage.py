"""Git storage against real git servers: smart HTTP with Basic auth, a private sshd, git daemon."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from prefect_storage.backends.cache import cache_root
from prefect_storage.backends.git import GitAuth, GitRef, GitRemote, checkout, strip_credentials
from prefect_storage.exceptions import FlowNotFoundError, StorageAuthError, StorageConfigError
from prefect_storage.storage import Storage
from prefect_storage.storage.git import Git
from tests.conformance.flows import FLOW_NAME, final_value, flow_script
from tests.conformance.suite import ScriptConformance, StorageHarness
from tests.conftest import require_service
from tests.services.git import GitService, RepoWriter

REPO_ROOT = Path(__file__).resolve().parents[2]
TOKEN_ENV = "GIT_TEST_TOKEN"


class GitHarness(StorageHarness):
    def __init__(self, service: GitService, tmp_path: Path) -> None:
        super().__init__(tmp_path)
        self.service = service
        self.repo_name = f"org/conf-{uuid.uuid4().hex[:10]}"
        self.writer = service.repo(self.repo_name)

    def _commit(self, script_path: Path) -> None:
        self.writer.commit({f"flows/{script_path.name}": script_path.read_text()}, message="flow")

    def _options(self) -> dict[str, Any]:
        return {"git_token_secret_name": TOKEN_ENV} if self.service.token else {}

    def script_storage(self, script_path: Path, **kwargs: Any) -> Storage:
        self._commit(script_path)
        return Git(flow_path=f"flows/{script_path.name}", repo=self.service.url(self.repo_name), **self._options(), **kwargs)

    def publish_script(self, storage: Storage, script_path: Path) -> None:
        self._commit(script_path)

    def templated_storage(self, monkeypatch: pytest.MonkeyPatch, script_path: Path | None = None) -> tuple[Storage, str]:
        assert script_path is not None
        self._commit(script_path)
        if self.service.token:  # the secret is the token itself
            return Git(flow_path=f"flows/{script_path.name}", repo=self.service.url(self.repo_name),
                       git_token_secret_name=TOKEN_ENV), self.service.token
        monkeypatch.setenv("GIT_REPO_PATH", self.repo_name)
        url = self.service.url("${GIT_REPO_PATH}")
        return Git(flow_path=f"flows/{script_path.name}", repo=url), self.repo_name

    def subprocess_env(self) -> dict[str, str]:
        return {TOKEN_ENV: self.service.token, **(self.service.env or {})}


@pytest.fixture(params=["http", "ssh", "daemon"])
def harness(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitHarness:
    service = request.getfixturevalue(f"git_{'daemon' if request.param == 'daemon' else request.param}_service")
    require_service(service is not None, "sshd is not installed (run scripts/setup.sh as root)")
    for key, value in (service.env or {}).items():
        monkeypatch.setenv(key, value)
    if service.token:
        monkeypatch.setenv(TOKEN_ENV, service.token)
    return GitHarness(service, tmp_path)


class TestGitConformance(ScriptConformance):
    pass


# ------------------------------------------------------------------------------ helpers


@pytest.fixture
def http(git_http_service: GitService, monkeypatch: pytest.MonkeyPatch) -> GitService:
    monkeypatch.setenv(TOKEN_ENV, git_http_service.token)
    return git_http_service


def new_repo(service: GitService) -> tuple[RepoWriter, str]:
    name = f"org/t-{uuid.uuid4().hex[:10]}"
    return service.repo(name), service.url(name)


def storage(url: str, path: str = "flows/etl/flow.py", **kwargs: Any) -> Git:
    s = Git(flow_path=path, repo=url, git_token_secret_name=TOKEN_ENV, **kwargs)
    s.flows[FLOW_NAME] = path
    return s


def git_files_text(root: Path) -> str:
    """Every file git keeps in the cache that could hold configuration or remotes."""
    texts = []
    for path in root.rglob("*"):
        if path.is_file() and path.name in {"config", "FETCH_HEAD", "packed-refs", "HEAD", "shallow"}:
            texts.append(path.read_text(errors="replace"))
    return "\n".join(texts)


# ------------------------------------------------------------------------------ secrets


def test_token_never_reaches_config_argv_logs_repr_or_errors(
    http: GitService, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    writer, url = new_repo(http)
    writer.commit({"flows/etl/flow.py": flow_script(value=3), "docs/big.bin": os.urandom(200_000)})
    seen: list[str] = []
    stop = threading.Event()

    def sample_process_list() -> None:
        while not stop.is_set():
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    seen.append(cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
                except OSError:
                    pass

    sampler = threading.Thread(target=sample_process_list, daemon=True)
    sampler.start()
    try:
        s = storage(url)
        assert final_value(s.get_flow(FLOW_NAME)) == 6
    finally:
        stop.set()
        sampler.join()
    assert any("git" in line and "fetch" in line for line in seen), "the sampler never saw git running"
    import base64

    # The header form git receives: built from the user name the storage really pairs
    # with the token (the repo owner here), and checked to be what git is given.
    auth = s._remote().auth
    basic = base64.b64encode(f"{auth.username}:{http.token}".encode()).decode()
    assert auth.header() == f"Authorization: Basic {basic}"
    # The test server itself is started with --token on its command line: leave it out.
    clients = [line for line in seen if "tests.services._" not in line]
    places = {
        "argv": "\n".join(clients),
        "git files": git_files_text(cache_root()),
        "logs": caplog.text,
        "repr": repr(s) + repr(s._remote()),
        "serialize": json.dumps(s.serialize()),
    }
    bad = Git(flow_path="flows/etl/flow.py", repo=url, git_token_secret_name=TOKEN_ENV, branch_name="nope")
    with pytest.raises(FlowNotFoundError) as missing:
        bad.checkout()
    places["error"] = str(missing.value)
    leaks = [where for where, text in places.items() if http.token in text or basic in text]
    assert leaks == []


def test_credentials_in_a_clone_url_secret_are_moved_out_of_the_url(http: GitService, monkeypatch: pytest.MonkeyPatch) -> None:
    writer, url = new_repo(http)
    writer.commit({"flows/etl/flow.py": flow_script(value=4)})
    monkeypatch.setenv("CLONE_URL", url.replace("http://", f"http://someone:{http.token}@"))
    s = Git(flow_path="flows/etl/flow.py", git_clone_url_secret_name="CLONE_URL")
    s.flows[FLOW_NAME] = "flows/etl/flow.py"
    assert final_value(s.get_flow(FLOW_NAME)) == 8
    assert http.token not in git_files_text(cache_root())
    assert s._remote().url == url


def test_wrong_token_is_an_auth_error_with_a_hint(http: GitService, monkeypatch: pytest.MonkeyPatch) -> None:
    writer, url = new_repo(http)
    writer.commit({"flows/etl/flow.py": flow_script()})
    monkeypatch.setenv(TOKEN_ENV, "wrong-token-value")
    with pytest.raises(StorageAuthError, match="Hint: The server refused the credentials") as info:
        storage(url).get_flow(FLOW_NAME)
    assert "wrong-token-value" not in str(info.value)


def test_unknown_repository_has_a_hint(http: GitService) -> None:
    with pytest.raises(FlowNotFoundError, match="repository was not found"):
        storage(http.url("org/does-not-exist")).get_flow(FLOW_NAME)


@pytest.mark.parametrize("ref", [{"branch_name": "no-such-branch"}, {"tag": "no-such-tag"},
                                 {"commit": "0123456789abcdef0123456789abcdef01234567"}, {"commit": "abcdef12"}])
def test_unknown_ref_names_the_ref(http: GitService, ref: dict[str, str]) -> None:
    writer, url = new_repo(http)
    writer.commit({"flows/etl/flow.py": flow_script()})
    with pytest.raises(FlowNotFoundError) as info:
        storage(url, **ref).get_flow(FLOW_NAME)
    assert repr(next(iter(ref.values()))) in str(info.value)


def test_ssh_unknown_host_key_has_a_hint(git_ssh_service: GitService | None, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    require_service(git_ssh_service is not None, "sshd is not installed")
    assert git_ssh_service is not None and git_ssh_service.env
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    key = Path(git_ssh_service.env["SSH_WORK_DIR"]) / "client_key"
    monkeypatch.setenv("GIT_SSH_COMMAND", f"ssh -i {key} -o IdentitiesOnly=yes -o UserKnownHostsFile={empty} "
                       "-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes")
    writer, url = new_repo(git_ssh_service)
    writer.commit({"flows/etl/flow.py": flow_script()})
    with pytest.raises(StorageAuthError, match="host key"):
        Git(flow_path="flows/etl/flow.py", repo=url).checkout()


# ------------------------------------------------------------------------------ refs


def test_branches_tags_and_commits(http: GitService) -> None:
    writer, url = new_repo(http)
    first = writer.commit({"flows/etl/flow.py": flow_script(value=1)})
    writer.tag("light")
    writer.tag("annotated", annotated=True)
    writer.commit({"flows/etl/flow.py": flow_script(value=2)}, branch="dev")
    writer.switch("main")
    writer.commit({"flows/etl/flow.py": flow_script(value=3)})
    expectations = [({}, 6), ({"branch_name": "main"}, 6), ({"branch_name": "dev"}, 4), ({"tag": "light"}, 2),
                    ({"tag": "annotated"}, 2), ({"commit": first}, 2), ({"commit": first[:9]}, 2)]
    for ref, value in expectations:
        assert final_value(storage(url, **ref).get_flow(FLOW_NAME)) == value, ref


def test_get_flow_returns_the_named_flow(http: GitService) -> None:
    writer, url = new_repo(http)
    two = flow_script(name="first", value=1) + "\n" + flow_script(name="second", value=5).replace(
        "from prefect_storage import Flow, task", "").replace("as flow:", "as second_flow:")
    writer.commit({"flows/etl/flow.py": two})
    s = Git(flow_path="flows/etl/flow.py", repo=url, git_token_secret_name=TOKEN_ENV)
    s.flows.update({"first": "flows/etl/flow.py", "second": "flows/etl/flow.py"})
    assert s.get_flow("second").name == "second"
    assert s.get_flow("first").name == "first"


def test_files_beside_the_flow_are_readable_and_siblings_importable(http: GitService) -> None:
    writer, url = new_repo(http)
    script = (
        "import os\nfrom helpers import scale\n"
        "from prefect_storage import Flow, task\n"
        "DATA = os.path.join(os.path.dirname(__file__), 'data.txt')\n"
        "@task\ndef produce():\n    return scale(int(open(DATA).read()))\n"
        f"with Flow({FLOW_NAME!r}) as flow:\n    produce()\n"
    )
    writer.commit({"flows/etl/flow.py": script, "flows/etl/helpers.py": "def scale(x):\n    return x * 10\n",
                   "flows/etl/data.txt": "7", "other/big.bin": os.urandom(500_000)})
    flow = storage(url).get_flow(FLOW_NAME)
    assert final_value(flow) == 70  # data.txt is read when the task runs, after loading
    snapshot = storage(url).checkout()
    assert not (snapshot.root / "other").exists()  # sparse: only the flow's folder


# ------------------------------------------------------------------------------ cache and speed


def packs(url: str) -> set[str]:
    return {p.name for p in cache_root().glob("git/*/objects.git/objects/pack/*.pack")}


def test_warm_load_transfers_nothing_and_a_change_fetches_only_new_objects(http: GitService) -> None:
    writer, url = new_repo(http)
    writer.commit({"flows/etl/flow.py": flow_script(value=1), "docs/big.bin": os.urandom(1_000_000)})
    s = storage(url)
    first = s.checkout()
    assert first.fetched
    before, logged = packs(url), len(http.stats_lines()) if http.stats else 0  # the first load's lines all written
    warm = s.checkout()
    assert not warm.fetched and warm.root == first.root and packs(url) == before
    requests = http.stats_lines()[logged:] if http.stats else []
    assert all(int(line.split()[-1]) < 2000 for line in requests)  # ls-remote only: no pack came back
    writer.commit({"flows/etl/flow.py": flow_script(value=9)})
    changed = s.checkout()
    assert changed.fetched and changed.commit != first.commit
    new = packs(url) - before
    size = sum(p.stat().st_size for p in cache_root().glob("git/*/objects.git/objects/pack/*.pack") if p.name in new)
    assert 0 < size < 20_000  # the new commit, its trees and one blob; not the 1 MB file
    assert final_value(s.get_flow(FLOW_NAME)) == 18


def test_pinned_commit_needs_no_network_once_cached(http: GitService) -> None:
    writer, url = new_repo(http)
    commit = writer.commit({"flows/etl/flow.py": flow_script(value=2)})
    storage(url, commit=commit).checkout()
    # Without credentials any request would fail with 401: the cached pin makes none.
    assert checkout(GitRemote.parse(url), GitRef(commit=commit), "flows/etl").fetched is False


_CONCURRENT = """
import sys
from prefect_storage.storage.git import Git
s = Git(flow_path="flows/etl/flow.py", repo=sys.argv[1], git_token_secret_name="GIT_TEST_TOKEN")
s.flows["conformance flow"] = "flows/etl/flow.py"
flow = s.get_flow("conformance flow")
state = flow.run()
print("OK" if state.is_successful() else "FAIL")
"""


def test_two_processes_loading_at_once_both_succeed(http: GitService, tmp_path: Path) -> None:
    writer, url = new_repo(http)
    writer.commit({"flows/etl/flow.py": flow_script(value=5), "docs/big.bin": os.urandom(300_000)})
    env = {**os.environ, TOKEN_ENV: http.token, "PYTHONPATH": str(REPO_ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", _CONCURRENT, url], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all(out.strip().endswith("OK") for out, _ in outputs)
    assert len(list(cache_root().glob("git/*/snapshots/*"))) == 1


# ------------------------------------------------------------------------------ construction and URLs


def test_classic_constructor_checks() -> None:
    with pytest.raises(ValueError, match="Please provide only one of the following parameters"):
        Git(flow_path="f.py", repo="org/r", branch_name="a", tag="b")
    with pytest.raises(ValueError, match="Either `repo` or `git_clone_url_secret_name` must be provided"):
        Git(flow_path="f.py")
    with pytest.raises(StorageConfigError, match="commit id"):
        Git(flow_path="f.py", repo="org/r", commit="not-hex!")
    with pytest.warns(UserWarning, match="SSH will be used"):
        Git(flow_path="f.py", repo="org/r", use_ssh=True, git_token_secret_name="T")
    assert Git(flow_path="f.py", repo="org/r").stored_as_script


def test_classic_url_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOK", "tok-value-1234")
    https = Git(flow_path="f.py", repo="org/r", git_token_secret_name="TOK")._remote()
    assert https.url == "https://github.com/org/r.git"
    assert https.auth == GitAuth("org", "tok-value-1234")
    assert "tok-value-1234" not in repr(https)
    custom_user = Git(flow_path="f.py", repo="org/r", repo_host="gitlab.example.com",
                      git_token_secret_name="TOK", git_token_username="bot")._remote()
    assert (custom_user.url, custom_user.auth.username) == ("https://gitlab.example.com/org/r.git", "bot")
    raw = Git(flow_path="f.py", repo="org/r", git_token_secret_name="TOK", format_access_token=False)._remote()
    assert raw.auth == GitAuth("tok-value-1234", "")
    assert Git(flow_path="f.py", repo="org/r", use_ssh=True)._remote().url == "git@github.com:org/r.git"
    env = https.env()
    headers = [env[f"GIT_CONFIG_VALUE_{i}"] for i in range(int(env["GIT_CONFIG_COUNT"]))]
    assert any(h.startswith("Authorization: Basic ") for h in headers)
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert strip_credentials("https://u:p@h.com/r.git") == "https://h.com/r.git"
    assert strip_credentials("ssh://git:pw@h.com:22/r.git") == "ssh://git@h.com:22/r.git"


def test_unreachable_server_is_backend_unavailable() -> None:
    from prefect_storage.exceptions import BackendUnavailableError
    from tests.services._process import free_port

    s = Git(flow_path="flows/f.py", repo=f"http://127.0.0.1:{free_port()}/org/r.git")
    with pytest.raises(BackendUnavailableError, match="could not be reached"):
        s.checkout()


def test_old_unused_snapshots_are_pruned(http: GitService, monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect_storage.backends.git as engine

    monkeypatch.setattr(engine, "KEEP_SNAPSHOTS", 1)
    monkeypatch.setattr(engine, "SNAPSHOT_GRACE_S", 0)
    writer, url = new_repo(http)
    writer.commit({"flows/etl/flow.py": flow_script(value=1)})
    old = storage(url).checkout()
    writer.commit({"flows/etl/flow.py": flow_script(value=2)})
    os.utime(old.root, (1, 1))
    new = storage(url).checkout()
    assert new.root.is_dir() and not old.root.exists()
