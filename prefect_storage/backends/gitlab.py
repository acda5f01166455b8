"""GitLab v4 API transport (python-gitlab): resolve a ref to a commit, read one file at that commit."""

from __future__ import annotations

from typing import Any

from prefect_storage.backends.forge import WORDING, Failure, classify_sdk, forge_call
from prefect_storage.backends.optional import require
from prefect_storage.secrets import find, render, resolve

DEFAULT_HOST = "https://gitlab.com"


def _classify(exc: Exception) -> Failure | None:
    gitlab = require("gitlab", extra="gitlab")
    requests = require("requests", extra="gitlab")
    return classify_sdk(
        exc, auth=gitlab.GitlabAuthenticationError, error=gitlab.GitlabError, offline=requests.RequestException,
        status="response_code", detail="error_message",
    )


class GitLabProject:
    """One project (``namespace/name`` or numeric id) on gitlab.com or a self-managed ``host``."""

    def __init__(self, repo: str, host: str | None = None, access_token_secret: str | None = None) -> None:
        gitlab = require("gitlab", extra="gitlab", purpose="GitLab storage")
        self.name = str(render(repo))
        self.host = (render(host) or DEFAULT_HOST).rstrip("/")
        secret = resolve(render(access_token_secret)) if access_token_secret else find("GITLAB_ACCESS_TOKEN")
        self._client = gitlab.Gitlab(self.host, private_token=secret, timeout=30, retry_transient_errors=True)
        self._project: Any = None

    def _call(self, fn: Any, what: str, missing: str) -> Any:
        """Run one API call; a failure becomes a typed error (see :mod:`.forge`)."""
        return forge_call(fn, _classify, WORDING["gitlab"], missing, what=what, host=self.host)

    @property
    def project(self) -> Any:
        if self._project is None:
            ident = int(self.name) if self.name.isdigit() else self.name
            self._project = self._call(
                lambda: self._client.projects.get(ident), f"opening {self.name!r}",
                f"Project {self.name!r} not found on {self.host}. Ensure the project exists and the token may see it.",
            )
        return self._project

    def commit_for(self, ref: str | None) -> str:
        name = ref or self.project.default_branch
        return str(self._call(
            lambda: self.project.commits.get(name).id, f"resolving {name!r}", f"Ref {name!r} not found in {self.name!r}."
        ))

    def read(self, path: str, commit: str) -> bytes:
        # The raw endpoint has no inline-size limit and no base64 overhead.
        return bytes(self._call(
            lambda: self.project.files.raw(file_path=path, ref=commit), f"reading {path!r}",
            f"Error retrieving file contents at {path} in {self.name}@{commit}. Ensure the project and file exist.",
        ))
