"""GitHub REST API transport (PyGithub): resolve a ref to a commit, read one file at that commit."""

from __future__ import annotations

import base64
from typing import Any

from prefect_storage.backends.forge import WORDING, Failure, classify_sdk, forge_call
from prefect_storage.backends.optional import require
from prefect_storage.exceptions import FlowNotFoundError, StorageError, with_sdk_error
from prefect_storage.secrets import find, render, resolve

DEFAULT_BASE_URL = "https://api.github.com"


def _classify(exc: Exception) -> Failure | None:
    github = require("github", extra="github")
    requests = require("requests", extra="github")
    # a missing repo, ref or file is a 404 (or 422 for a bad ref)
    return classify_sdk(
        exc, auth=github.BadCredentialsException, error=github.GithubException, offline=requests.RequestException,
        status="status", detail="data", missing=(404, 422), missing_types=github.UnknownObjectException,
    )


def _as_unknown_object(error: StorageError, exc: Exception) -> StorageError:
    """A missing object is also a ``github.UnknownObjectException``, as classic GitHub storage raised."""
    if not isinstance(error, FlowNotFoundError):
        return error
    status, data = getattr(exc, "status", 404), getattr(exc, "data", None)
    return with_sdk_error(
        error,
        "github",
        "UnknownObjectException",
        _GithubException__status=status,
        _GithubException__data=data,
        _GithubException__headers=None,
        _GithubException__message=None,
    )


def token(access_token_secret: str | None) -> str | None:
    """The classic order: the named secret, then ``GITHUB_ACCESS_TOKEN`` (context or env), else anonymous."""
    if access_token_secret:
        return resolve(render(access_token_secret))
    return find("GITHUB_ACCESS_TOKEN")


class GitHubRepo:
    """One repository on github.com or GitHub Enterprise (``base_url``)."""

    def __init__(self, repo: str, access_token_secret: str | None = None, base_url: str | None = None) -> None:
        github = require("github", extra="github", purpose="GitHub storage")
        self.name = render(repo)
        self.base_url = (render(base_url) or DEFAULT_BASE_URL).rstrip("/")
        secret = token(access_token_secret)
        auth = github.Auth.Token(secret) if secret else None
        self._client = github.Github(base_url=self.base_url, auth=auth, retry=None, timeout=30)
        self._repo: Any = None
        self._refs: dict[str, str] = {}  # commit -> the ref it was resolved from, for messages

    def _call(self, fn: Any, what: str, missing: str) -> Any:
        """Run one API call; a failure becomes a typed error (see :mod:`.forge`)."""
        return forge_call(fn, _classify, WORDING["github"], missing, _as_unknown_object, what=what, base_url=self.base_url)

    @property
    def repo(self) -> Any:
        if self._repo is None:
            self._repo = self._call(
                lambda: self._client.get_repo(self.name), f"opening {self.name!r}",
                f"Repo {self.name!r} not found. Check that it exists (and that the token may see it).",
            )
        return self._repo

    def commit_for(self, ref: str | None) -> str:
        """The commit id ``ref`` (branch, tag, or commit; default: the repo's default branch) points to."""
        name = ref or self.repo.default_branch
        commit: str = self._call(
            lambda: self.repo.get_commit(name).sha, f"resolving {name!r}", f"Ref {name!r} not found in repo {self.name!r}."
        )
        self._refs[commit] = name
        return commit

    def read(self, path: str, commit: str) -> bytes:
        """The bytes of ``path`` at ``commit``; files over the inline limit come through the git blob API.
        Messages name the ref the user asked for (a branch, a tag) when :meth:`commit_for` resolved it."""
        ref = self._refs.get(commit)
        shown = f"ref {ref!r} (commit {commit})" if ref and ref != commit else f"ref {commit!r}"
        missing = f"File {path!r} not found in repo {self.name!r}, {shown}."
        content = self._call(lambda: self.repo.get_contents(path, ref=commit), f"reading {path!r}", missing)
        if isinstance(content, list) or content.type != "file":
            raise FlowNotFoundError(f"{path!r} in repo {self.name!r} is a directory, not a flow script.")
        if content.encoding == "base64":
            return base64.b64decode(content.content)
        blob = self._call(lambda: self.repo.get_git_blob(content.sha), f"reading blob of {path!r}", missing)
        return base64.b64decode(blob.content)
