"""``GitLab`` storage: a flow script read from a GitLab project through the v4 API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import StorageConfigError
from prefect_storage.secrets import render
from prefect_storage.storage.forge import ForgeStorage

if TYPE_CHECKING:
    pass


class GitLab(ForgeStorage):
    """Load flow scripts from a file in a GitLab project (gitlab.com or self-managed).

    Args:
        repo: ``namespace/project`` or the numeric project id.
        host: GitLab URL; default ``https://gitlab.com``.
        path: the flow script's path in the repository.
        ref: branch, tag or commit; default: the project's default branch (the
            classic class assumed ``master``).
        access_token_secret: name of a secret with a token; default: the
            ``GITLAB_ACCESS_TOKEN`` secret or environment variable.

    Each load resolves ``ref`` to a commit id and reads the raw file at that commit,
    from a local cache when that commit was read before.

    Example::

        flow.storage = GitLab(repo="group/flows", path="flows/etl.py", access_token_secret="GITLAB_TOKEN")
    """

    _forge, _forge_name = "gitlab", "GitLab"
    _serialized_fields = ("repo", "path", "host", "ref", "access_token_secret")

    def __init__(self, repo: str, host: str | None = None, path: str | None = None, ref: str | None = None,
                 access_token_secret: str | None = None, **kwargs: Any) -> None:
        if not repo:
            raise StorageConfigError("GitLab storage needs `repo` ('namespace/project' or a project id).")
        self.repo, self.host, self.path, self.ref = repo, host, path, ref
        self.access_token_secret = access_token_secret
        super().__init__(**kwargs)

    def _fetch(self, path: str) -> bytes:
        from prefect_storage.backends.forge import cached_file
        from prefect_storage.backends.gitlab import GitLabProject

        api = GitLabProject(self.repo, self.host, self.access_token_secret)
        commit = api.commit_for(render(self.ref))
        self.logger.info("Loading %r from GitLab project %r at commit %s.", path, self.repo, commit)
        return cached_file("gitlab", f"{api.host}/{api.name}", path, commit, lambda: api.read(path, commit))
