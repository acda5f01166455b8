"""``GitHub`` storage: a flow script read from a GitHub repository through the REST API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import StorageConfigError
from prefect_storage.secrets import render
from prefect_storage.storage.base import Storage

if TYPE_CHECKING:
    from prefect_storage.core.flow import Flow


class GitHub(Storage):
    """Load flow scripts from a file in a GitHub (or GitHub Enterprise) repository.

    Args:
        repo: ``owner/name``.
        path: the flow script's path in the repository.
        ref: branch, tag or commit; default: the repository's default branch.
        access_token_secret: name of a secret with a token; default: the
            ``GITHUB_ACCESS_TOKEN`` secret or environment variable, else anonymous.
        base_url: API root for GitHub Enterprise, e.g. ``https://ghe.example.com/api/v3``.

    Each load resolves ``ref`` to a commit id (one request) and reads the file at that
    commit, from a local cache when that commit was read before. Files over GitHub's
    1 MiB inline limit are read through the git blob API.

    Example::

        flow.storage = GitHub(repo="org/flows", path="flows/etl.py", access_token_secret="GITHUB_TOKEN")
    """

    _serialized_fields = ("repo", "path", "ref", "access_token_secret", "base_url")

    def __init__(self, repo: str, path: str, ref: str | None = None, access_token_secret: str | None = None,
                 base_url: str | None = None, **kwargs: Any) -> None:
        if not repo or not path:
            raise StorageConfigError("GitHub storage needs `repo` ('owner/name') and `path` (the flow script in it).")
        kwargs.pop("stored_as_script", None)
        self.repo, self.path, self.ref = repo, path, ref
        self.access_token_secret, self.base_url = access_token_secret, base_url
        super().__init__(stored_as_script=True, **kwargs)

    def _location_for(self, flow: Flow) -> str:
        return self.path

    def _script_payload(self, flow_name: str, flow: Flow) -> bytes | None:
        return None  # the script lives in the repository

    def _describe(self, location: str) -> str:
        return f"github:{self.repo}@{self.ref or 'default branch'}:{location}"

    def _read(self, location: str) -> bytes:
        from prefect_storage.backends.forge import cached_file
        from prefect_storage.backends.github import GitHubRepo

        path = render(location)
        self.logger.info("Downloading flow from GitHub storage - repo: %r, path: %r, ref: %r", self.repo, path, self.ref)
        api = GitHubRepo(self.repo, self.access_token_secret, self.base_url)
        commit = api.commit_for(render(self.ref))
        data = cached_file("github", f"{api.base_url}/{api.name}", path, commit, lambda: api.read(path, commit, render(self.ref)))
        self.logger.info("Flow successfully downloaded. Using commit: %s", commit)
        return data
