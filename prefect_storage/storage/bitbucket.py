"""``Bitbucket`` storage: a flow script read from Bitbucket Cloud or Bitbucket Server / Data Center."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import StorageConfigError
from prefect_storage.secrets import render
from prefect_storage.storage.forge import ForgeStorage

if TYPE_CHECKING:
    pass


class Bitbucket(ForgeStorage):
    """Load flow scripts from a file in a Bitbucket repository.

    With ``workspace`` it talks to Bitbucket Cloud (user name + app password);
    without, to Bitbucket Server / Data Center (an HTTP access token).

    Args:
        project: the Server project key (kept for Cloud too, as in the classic class).
        repo: the repository slug.
        workspace: the Cloud workspace; selects Bitbucket Cloud.
        host: Server URL (default ``https://bitbucket.org``), or the Cloud API root
            (default ``https://api.bitbucket.org``).
        path: the flow script's path in the repository.
        ref: branch, tag or commit; default: the repository's default branch (the
            classic class assumed ``master``).
        access_token_secret: Server: secret with the token; default the
            ``BITBUCKET_ACCESS_TOKEN`` secret or environment variable.
        cloud_username_secret: Cloud: secret with the user name; default
            ``BITBUCKET_CLOUD_USERNAME``.
        cloud_app_password_secret: Cloud: secret with the app password; default
            ``BITBUCKET_CLOUD_APP_PASSWORD``.

    Each load resolves ``ref`` to a commit id and reads the raw file at that commit,
    from a local cache when that commit was read before.

    Example::

        flow.storage = Bitbucket(project="DATA", repo="flows", host="https://bitbucket.example.com",
                                 path="flows/etl.py", access_token_secret="BITBUCKET_TOKEN")
    """

    _forge, _forge_name = "bitbucket", "Bitbucket"
    _serialized_fields = ("project", "repo", "workspace", "host", "path", "ref", "access_token_secret",
                          "cloud_username_secret", "cloud_app_password_secret")

    def __init__(self, project: str, repo: str, workspace: str | None = None, host: str | None = None,
                 path: str | None = None, ref: str | None = None, access_token_secret: str | None = None,
                 cloud_username_secret: str | None = None, cloud_app_password_secret: str | None = None,
                 **kwargs: Any) -> None:
        if workspace and access_token_secret:
            raise StorageConfigError(
                "`access_token_secret` and `workspace` are both set. Setting `workspace` is only for use with "
                "Bitbucket Cloud which uses `cloud_username_secret` and `cloud_app_password_secret` to provide "
                "authentication."
            )
        self.project, self.repo, self.workspace, self.host = project, repo, workspace, host
        self.path, self.ref, self.access_token_secret = path, ref, access_token_secret
        self.cloud_username_secret, self.cloud_app_password_secret = cloud_username_secret, cloud_app_password_secret
        super().__init__(**kwargs)

    def _where(self) -> str:
        return f"{self.workspace}/{self.repo}" if self.workspace else f"{self.project}/{self.repo}"

    def _fetch(self, path: str) -> bytes:
        from prefect_storage.backends.bitbucket import BitbucketCloudRepo, BitbucketServerRepo
        from prefect_storage.backends.forge import cached_file

        if self.workspace:
            api: Any = BitbucketCloudRepo(self.workspace, self.repo, self.host, self.cloud_username_secret,
                                          self.cloud_app_password_secret)
            key = f"{api.api.base}/{api.workspace}/{api.repo}"
        else:
            api = BitbucketServerRepo(self.project, self.repo, self.host, self.access_token_secret)
            key = f"{api.api.base}/{api.project}/{api.repo}"
        commit = api.commit_for(render(self.ref))
        self.logger.info("Loading %r from %s at commit %s.", path, self._describe(path), commit)
        return cached_file("bitbucket", key, path, commit, lambda: api.read(path, commit))
