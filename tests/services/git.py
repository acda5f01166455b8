"""Git servers for the Git-family tests: smart HTTP with Basic auth, a private sshd, ``git daemon``.

All three serve the same folder of bare repositories (session-scoped), which
:class:`RepoWriter` fills with commits, branches and tags through a work clone.
The forge fixture (``tests/services/forge.py``) serves the same folder too.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services._process import ServiceProcess, free_port, port_open

REPO_ROOT = Path(__file__).resolve().parents[2]
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(*args: str, cwd: Path | str | None = None, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV, **(env or {})}
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


class RepoWriter:
    """A bare repository under the served root, written through a work clone."""

    def __init__(self, root: Path, name: str, default_branch: str = "main") -> None:
        self.root = root
        self.name = name
        self.bare = root / f"{name}.git"
        self.bare.parent.mkdir(parents=True, exist_ok=True)
        git("init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(self.bare))
        for key, value in (("uploadpack.allowFilter", "true"), ("uploadpack.allowAnySHA1InWant", "true"),
                           ("http.receivepack", "true")):
            git("--git-dir", str(self.bare), "config", key, value)
        (self.bare / "git-daemon-export-ok").touch()
        self.work = root.parent / "work" / name
        if self.work.exists():
            shutil.rmtree(self.work)
        git("clone", "--quiet", str(self.bare), str(self.work))
        git("checkout", "--quiet", "-B", default_branch, cwd=self.work)

    def commit(self, files: Mapping[str, str | bytes], message: str = "update", branch: str | None = None) -> str:
        """Write ``files`` (path -> content; None deletes), commit and push; return the commit id."""
        if branch:
            git("checkout", "--quiet", "-B", branch, cwd=self.work)
        for path, content in files.items():
            target = self.work / path
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode())
        git("add", "--all", cwd=self.work)
        git("commit", "--quiet", "--allow-empty", "-m", message, cwd=self.work)
        current = git("rev-parse", "--abbrev-ref", "HEAD", cwd=self.work)
        git("push", "--quiet", "--force", "origin", current, cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def switch(self, branch: str) -> None:
        git("checkout", "--quiet", branch, cwd=self.work)

    def tag(self, name: str, annotated: bool = False, target: str = "HEAD") -> None:
        args = ["tag", "-f", *(["-a", "-m", f"tag {name}"] if annotated else []), name, target]
        git(*args, cwd=self.work)
        git("push", "--quiet", "--force", "origin", f"refs/tags/{name}", cwd=self.work)


@dataclass
class GitService:
    """A running git server: ``url(name)`` is the clone URL of ``<root>/<name>.git``."""

    kind: str
    base: str
    root: Path
    token: str = ""
    env: Mapping[str, str] | None = None
    stats: Path | None = None

    def stats_lines(self, settle: float = 0.2, timeout: float = 5.0) -> list[str]:
        """The http server's request log once it has stopped growing: the server records a
        request after answering it, so a client can be done before its last line is written."""
        import time

        assert self.stats is not None
        deadline = time.monotonic() + timeout
        seen = self.stats.read_text() if self.stats.exists() else ""
        while time.monotonic() < deadline:
            time.sleep(settle)
            now = self.stats.read_text() if self.stats.exists() else ""
            if now == seen:
                break
            seen = now
        return seen.splitlines()

    def url(self, name: str) -> str:
        if self.kind == "ssh":
            return f"{self.base}{self.root}/{name}.git"
        return f"{self.base}/{name}.git"

    def repo(self, name: str, default_branch: str = "main") -> RepoWriter:
        return RepoWriter(self.root, name, default_branch)


@pytest.fixture(scope="session")
def git_repos_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("git-served") / "repos"


@pytest.fixture(scope="session")
def git_http_service(git_repos_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitService]:
    git_repos_root.mkdir(parents=True, exist_ok=True)
    logs = tmp_path_factory.mktemp("git-http")
    port = free_port()
    token = "ghp-test-" + os.urandom(12).hex()
    stats = logs / "stats.log"
    proc = ServiceProcess(
        "git http server",
        [sys.executable, "-m", "tests.services._git_http_server", "--root", str(git_repos_root),
         "--port", str(port), "--token", token, "--stats", str(stats)],
        logs / "server.log", cwd=REPO_ROOT,
    ).start()
    try:
        proc.wait_until(lambda: port_open(port), timeout=20)
        yield GitService("http", f"http://127.0.0.1:{port}", git_repos_root, token=token, stats=stats)
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def git_daemon_service(git_repos_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitService]:
    git_repos_root.mkdir(parents=True, exist_ok=True)
    logs = tmp_path_factory.mktemp("git-daemon")
    port = free_port()
    proc = ServiceProcess(
        "git daemon",
        ["git", "daemon", "--reuseaddr", "--listen=127.0.0.1", f"--port={port}", f"--base-path={git_repos_root}",
         "--export-all", "--informative-errors", str(git_repos_root)],
        logs / "daemon.log",
    ).start()
    try:
        proc.wait_until(lambda: port_open(port), timeout=20)
        yield GitService("daemon", f"git://127.0.0.1:{port}", git_repos_root)
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def git_ssh_service(git_repos_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitService | None]:
    """A private sshd on a free port with generated host and client keys; ``None`` without sshd."""
    sshd = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
    if sshd is None or shutil.which("ssh-keygen") is None:
        yield None
        return
    git_repos_root.mkdir(parents=True, exist_ok=True)
    work = tmp_path_factory.mktemp("git-ssh")
    port = free_port()
    for key in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / key)], check=True)
    (work / "authorized_keys").write_text((work / "client_key.pub").read_text())
    os.chmod(work / "authorized_keys", 0o600)
    host_pub = (work / "host_key.pub").read_text().split()
    (work / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    (work / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {work / 'host_key'}\n"
        f"AuthorizedKeysFile {work / 'authorized_keys'}\nPidFile {work / 'sshd.pid'}\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nPubkeyAuthentication yes\n"
        f"SetEnv PATH={os.environ.get('PATH', '/usr/bin:/bin')}\n"
    )
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", exist_ok=True)  # sshd refuses to start without it
    proc = ServiceProcess("sshd", [sshd, "-D", "-e", "-f", str(work / "sshd_config")], work / "sshd.log").start()
    ssh_command = (
        f"ssh -i {work / 'client_key'} -o IdentitiesOnly=yes -o UserKnownHostsFile={work / 'known_hosts'} "
        "-o StrictHostKeyChecking=yes -o BatchMode=yes"
    )
    try:
        proc.wait_until(lambda: port_open(port), timeout=20)
        yield GitService(
            "ssh", f"ssh://{getpass.getuser()}@127.0.0.1:{port}", git_repos_root,
            env={"GIT_SSH_COMMAND": ssh_command, "SSH_WORK_DIR": str(work)},
        )
    finally:
        proc.stop()
