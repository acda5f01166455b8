"""``Git`` storage: flow scripts loaded from a git repository, through the cached git engine."""

from __future__ import annotations

import posixpath
import warnings
from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import FlowNotFoundError, StorageConfigError
from prefect_storage.secrets import render, resolve
from prefect_storage.storage.base import Storage

if TYPE_CHECKING:
    from prefect_storage.backends.git import GitRemote
    from prefect_storage.core.flow import Flow

URL_PREFIXES = ("http://", "https://", "ssh://", "git://", "file://", "git+ssh://")


class Git(Storage):
    """Load flow scripts from a git repository (script storage only).

    Args:
        flow_path: the flow script's path inside the repository, e.g. ``flows/etl/flow.py``.
        repo: ``org/name`` on ``repo_host``; or a full clone URL (``https://host/org/name.git``,
            ``ssh://git@host:2222/org/name.git``, ``git://...``, ``file://...``), used as given.
        repo_host: the host for an ``org/name`` repo (default ``github.com``).
        flow_name: the flow to load from the script when ``get_flow`` names none.
        git_token_secret_name: a secret holding an access token (sent as an HTTP header, never in the URL).
        git_token_username: the user name paired with the token (default: the repo owner).
        git_clone_url_secret_name: a secret holding the whole clone URL; overrides
            ``repo``, ``repo_host``, the token, ``use_ssh`` and ``format_access_token``.
            Credentials inside that URL are moved to a header too.
        branch_name, tag, commit: at most one; none means the remote's default branch.
            ``tag`` may be lightweight or annotated; ``commit`` may be full or abbreviated.
        clone_depth: history depth fetched (``0``: all; file contents are never fetched
            beyond the flow's folder).
        use_ssh: clone ``git@{repo_host}:{repo}.git`` over SSH (keys from ssh-agent or
            ``GIT_SSH_COMMAND``).
        format_access_token: send ``{username}:{token}``; ``False`` sends the secret's
            value as is (``user:token`` or a bare token).

    Only the flow's folder is checked out (sparse, partial clone) into a cache shared
    by every load on the machine; an unchanged ref costs one ``git ls-remote``. Files
    beside the flow are readable through ``__file__`` while the flow runs and modules
    beside it are importable while the script loads.

    Example::

        flow.storage = Git(repo="org/flows", flow_path="flows/etl.py", git_token_secret_name="GITHUB_TOKEN")
    """

    _serialized_fields = (
        "flow_path", "repo", "repo_host", "flow_name", "git_token_secret_name", "git_token_username",
        "git_clone_url_secret_name", "branch_name", "tag", "commit", "clone_depth", "use_ssh",
        "format_access_token",
    )

    def __init__(
        self,
        flow_path: str,
        repo: str | None = None,
        repo_host: str = "github.com",
        flow_name: str | None = None,
        git_token_secret_name: str | None = None,
        git_token_username: str | None = None,
        git_clone_url_secret_name: str | None = None,
        branch_name: str | None = None,
        tag: str | None = None,
        commit: str | None = None,
        clone_depth: int = 1,
        use_ssh: bool = False,
        format_access_token: bool = True,
        **kwargs: Any,
    ) -> None:
        from prefect_storage.backends.git import GitRef, url_credentials

        kwargs.pop("stored_as_script", None)
        if sum(bool(v) for v in (branch_name, tag, commit)) > 1:
            raise StorageConfigError(
                "Please provide only one of the following parameters: `branch_name`, `tag`, `commit`"
            )
        if repo is None and git_clone_url_secret_name is None:
            raise StorageConfigError("Either `repo` or `git_clone_url_secret_name` must be provided")
        if not flow_path or posixpath.isabs(flow_path) or ".." in flow_path.split("/"):
            raise StorageConfigError(f"`flow_path` must be a relative path inside the repository, got {flow_path!r}.")
        if not isinstance(clone_depth, int) or clone_depth < 0:
            raise StorageConfigError(f"`clone_depth` must be a whole number >= 0 (0: full history), got {clone_depth!r}.")
        if use_ssh and git_token_secret_name:
            self._warn(
                "Git Storage initialized with `use_ssh = True` and `git_token_secret_name` provided. SSH will be "
                "used to clone the repository. `git_token_secret_name` will be ignored"
            )
        if git_clone_url_secret_name and (repo or git_token_secret_name or git_token_username or use_ssh):
            # Unlike the classic class, defaults alone (repo_host, format_access_token) do not warn.
            self._warn(
                "Git storage initialized with a `git_clone_url_secret_name`. The value of this Secret will be used "
                "to clone the repository, ignoring `repo`, `repo_host`, `git_token_secret_name`,  "
                "`git_token_username`, `use_ssh`, and `format_access_token`."
            )
        literal = url_credentials(repo) if repo and "$" not in repo else None
        if literal is not None and literal[1]:
            raise StorageConfigError(
                "`repo` holds a password or token in its URL, which would be stored in clear wherever the storage "
                "is serialized (the registry). Put the token in a secret and pass `git_token_secret_name=`, put the "
                "whole URL in a secret and pass `git_clone_url_secret_name=`, or template it: "
                "https://user:${GIT_TOKEN}@host/org/repo.git"
            )
        GitRef(branch_name, tag, commit)  # validates the commit id early
        self.flow_path = flow_path
        self.repo = repo
        self.repo_host = repo_host
        self.flow_name = flow_name
        self.git_token_secret_name = git_token_secret_name
        self.git_token_username = git_token_username
        self.git_clone_url_secret_name = git_clone_url_secret_name
        self.branch_name = branch_name
        self.tag = tag
        self.commit = commit
        self.clone_depth = clone_depth
        self.use_ssh = use_ssh
        self.format_access_token = format_access_token
        super().__init__(stored_as_script=True, **kwargs)

    def _warn(self, message: str) -> None:
        """Classic Git storage logged these on its logger; callers also filter warnings."""
        self.logger.warning(message)
        warnings.warn(message, stacklevel=3)

    @classmethod
    def _from_serialized(cls, data: Any) -> Storage:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return super()._from_serialized(data)

    # -- where to clone from ----------------------------------------------------------

    def _remote(self) -> GitRemote:
        """The remote to fetch from, with credentials kept apart from the URL."""
        from prefect_storage.backends.git import GitAuth, GitRemote

        if self.git_clone_url_secret_name:
            return GitRemote.parse(resolve(render(self.git_clone_url_secret_name)))
        repo = render(self.repo)
        if self.use_ssh:
            url = repo if repo.startswith(URL_PREFIXES) else f"git@{render(self.repo_host)}:{repo}.git"
            return GitRemote.parse(url)
        url = repo if repo.startswith(URL_PREFIXES) else f"https://{render(self.repo_host)}/{repo}.git"
        auth = None
        if self.git_token_secret_name:
            token = resolve(render(self.git_token_secret_name))
            if self.format_access_token:
                owner = repo.split("/")[0] if not repo.startswith(URL_PREFIXES) else "x-access-token"
                auth = GitAuth(render(self.git_token_username) or owner, token)
            else:
                user, sep, password = token.partition(":")
                auth = GitAuth(user, password) if sep else GitAuth(token, "")
        return GitRemote.parse(url, auth)

    # -- the Storage hooks ---------------------------------------------------------------

    def _location_for(self, flow: Flow) -> str:
        return self.flow_path

    def _script_payload(self, flow_name: str, flow: Flow) -> bytes | None:
        return None  # the script lives in the repository; push it there

    def _describe(self, location: str) -> str:
        ref = self.branch_name or self.tag or self.commit or "HEAD"
        from prefect_storage.backends.git import strip_credentials

        where = strip_credentials(self.repo) if self.repo else f"secret {self.git_clone_url_secret_name}"
        return f"{where}@{ref}:{location}"

    def checkout(self, location: str | None = None) -> Any:
        """Fetch (or reuse from the cache) the folder of ``location`` at the configured ref
        and return the :class:`~prefect_storage.backends.git.Checkout`."""
        from prefect_storage.backends.git import GitRef, checkout

        path = render(location or self.flow_path)
        ref = GitRef(render(self.branch_name), render(self.tag), render(self.commit))
        return checkout(self._remote(), ref, folder=posixpath.dirname(path), depth=self.clone_depth or None)

    def _load_script(self, flow_name: str, location: str) -> Flow:
        from prefect_storage.serialization.extract import extract_flow_from_file

        snapshot = self.checkout(location)
        script = snapshot.root / render(location)
        if not script.is_file():
            raise FlowNotFoundError(
                f"{render(location)!r} does not exist at commit {snapshot.commit} of {self._describe(location)}. "
                "Hint: check `flow_path` and that the file is committed and pushed."
            )
        self.logger.info("Loading flow %r from %s (commit %s).", flow_name, self._describe(location), snapshot.commit)
        return extract_flow_from_file(file_path=script, flow_name=flow_name or self.flow_name)
