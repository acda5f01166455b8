"""The local forge (GitHub, GitLab, Bitbucket Cloud/Server, CodeCommit APIs) over the
bare repositories the git servers serve (see ``tests/services/_fake_forge.py``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services._process import ServiceProcess, free_port, port_open
from tests.services.git import REPO_ROOT, RepoWriter


@dataclass
class ForgeService:
    base: str
    root: Path
    token: str
    aws_key: str
    aws_secret: str

    def repo(self, name: str, default_branch: str = "main") -> RepoWriter:
        return RepoWriter(self.root, name, default_branch)


@pytest.fixture(scope="session")
def forge_service(git_repos_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForgeService]:
    git_repos_root.mkdir(parents=True, exist_ok=True)
    logs = tmp_path_factory.mktemp("forge")
    port = free_port()
    token = "forge-token-" + os.urandom(10).hex()
    key, secret = "AKIAFORGETEST0000001", "forge-secret-" + os.urandom(10).hex()
    proc = ServiceProcess(
        "fake forge",
        [sys.executable, "-m", "tests.services._fake_forge", "--root", str(git_repos_root), "--port", str(port),
         "--token", token, "--aws-key", key, "--aws-secret", secret],
        logs / "forge.log", cwd=REPO_ROOT,
    ).start()
    try:
        proc.wait_until(lambda: port_open(port), timeout=20)
        yield ForgeService(f"http://127.0.0.1:{port}", git_repos_root, token, key, secret)
    finally:
        proc.stop()
