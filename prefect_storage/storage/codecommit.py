"""``CodeCommit`` storage: a flow script read from an AWS CodeCommit repository."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import StorageConfigError
from prefect_storage.secrets import render
from prefect_storage.storage.forge import ForgeStorage

if TYPE_CHECKING:
    pass


class CodeCommit(ForgeStorage):
    """Load flow scripts from a file in an AWS CodeCommit repository.

    Args:
        repo: the repository name.
        path: the flow script's path in the repository.
        commit: a commit id, branch name or tag; default: the repository's default
            branch (the classic class failed without one).
        client_options: extra ``boto3.client("codecommit", ...)`` arguments
            (``region_name``, ``endpoint_url``...). Credentials come from the
            ``AWS_CREDENTIALS`` secret, then these options, then boto3's default chain;
            literal keys are not serialized.

    Each load resolves ``commit`` to a commit id and reads the file at that commit,
    from a local cache when that commit was read before.

    Example::

        flow.storage = CodeCommit(repo="flows", path="flows/etl.py", client_options={"region_name": "eu-west-1"})
    """

    _forge, _forge_name = "codecommit", "CodeCommit"
    _serialized_fields = ("repo", "path", "commit", "client_options")

    def __init__(self, repo: str, path: str | None = None, commit: str | None = None,
                 client_options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not repo:
            raise StorageConfigError("CodeCommit storage needs `repo`, the repository name.")
        self.repo, self.path, self.commit = repo, path, commit
        self._client_options = client_options
        super().__init__(**kwargs)

    @property
    def client_options(self) -> dict[str, Any] | None:
        from prefect_storage.backends.aws import public_options

        return public_options(self._client_options)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_client_options"] = self.client_options  # never pickle literal credentials
        return state

    def _requested_ref(self) -> str | None:
        return self.commit

    def _fetch(self, path: str) -> bytes:
        from prefect_storage.backends.codecommit import CodeCommitRepo
        from prefect_storage.backends.forge import cached_file

        api = CodeCommitRepo(self.repo, self._client_options)
        spec = render(self.commit)
        commit = api.commit_for(spec)
        if commit is None:  # a tag or short id: the read resolves it
            commit, data = api.read(path, str(spec))
            return cached_file("codecommit", api.name, path, commit, lambda: data)
        self.logger.info("Loading %r from CodeCommit repository %r at commit %s.", path, self.repo, commit)
        return cached_file("codecommit", f"{api.client.meta.endpoint_url}/{api.name}", path, commit,
                           lambda: api.read(path, commit)[1])
