"""``GitRepository``: a git repository pulled into a stable folder, on the project's git engine.

Differences from Prefect 3 that users can rely on:

* the token never appears in a URL, ``.git/config``, argv, a log line or
  :meth:`GitRepository.to_pull_step` output: it travels as an ``Authorization`` header
  in ``GIT_CONFIG_*`` environment variables scoped to the repository's origin
  (:mod:`prefect_storage.backends.git`);
* a repeat pull of an unchanged ref costs one request (``ls-remote``) and no git
  fetch; a pull after new commits fetches only those commits' objects;
* auth failures raise :class:`~prefect_storage.exceptions.StorageAuthError` naming the
  URL (never the secret), not a ``RuntimeError`` that gets retried.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prefect_storage.backends.git import GitAuth, GitRef, GitRemote, strip_credentials, sync_worktree
from prefect_storage.exceptions import StorageConfigError
from prefect_storage.runner._values import is_block, is_secret_str, placeholder, reveal
from prefect_storage.runner.base import StorageBase
from prefect_storage.secrets import get_logger, remember_secret, template_names

__all__ = ["GitCredentials", "GitRepository", "format_git_auth"]

logger = get_logger("runner.git")

_COMMIT_SHA = re.compile(r"^[0-9a-fA-F]{4,64}$")
_TOKEN_KEYS = ("access_token", "token", "password")


class GitCredentials(dict):  # type: ignore[type-arg]
    """``{"username": ..., "access_token": ...}`` (Prefect's TypedDict, as a plain dict)."""


def format_git_auth(host: str, token: str, username: str | None = None) -> GitAuth:
    """The HTTP Basic credentials a forge expects for ``token`` (Prefect's conventions).

    * a ``username``: used as given;
    * Bitbucket Server (host contains ``bitbucketserver``): the token must be ``user:token``;
    * Bitbucket Cloud: ``x-token-auth:<token>`` (a ``user:app-password`` is kept);
    * GitLab: ``oauth2:<token>``, except deploy tokens, which are ``name:token``;
    * GitHub and everything else: ``x-access-token:<token>``.
    """
    remember_secret(token)
    host = host.lower()
    if username:
        return GitAuth(username, token)
    if "bitbucketserver" in host:
        user, sep, password = token.partition(":")
        if not sep:
            raise StorageConfigError(
                "Bitbucket Server needs a username with the token: give credentials={'username': ..., "
                "'access_token': ...} or a token of the form 'user:token'."
            )
        return GitAuth(user, password)
    for prefix, hosts in (("x-token-auth", ("bitbucket",)), ("oauth2", ("gitlab",))):
        if any(h in host for h in hosts):
            if token.startswith(prefix + ":"):
                return GitAuth(prefix, token[len(prefix) + 1:])
            user, sep, password = token.partition(":")
            return GitAuth(user, password) if sep else GitAuth(prefix, token)
    return GitAuth("x-access-token", token)


class GitRepository(StorageBase):
    """Pulls a git repository (or some of its folders) into ``base path / name``.

    Args:
        url: the clone URL (``https://``, ``http://``, ``ssh://``, ``git@host:org/repo.git``,
            ``git://``, ``file://``).
        credentials: ``{"username": ..., "access_token": ...}`` (values may be ``Secret``
            blocks or ``$VAR`` templates), a ``Secret`` block holding the token, or a
            credentials block (``GitHubCredentials``, ``GitLabCredentials``,
            ``BitBucketCredentials``...). For SSH, ``{"ssh_private_key": Secret...}``
            (a deploy key) is also accepted; otherwise the machine's SSH setup is used.
        name: the folder name; default ``<repo>`` or ``<repo>-<branch>``.
        branch: the branch (or tag) to pull; default: the remote's default branch.
        commit_sha: pin a commit (4 to 64 hex digits); excludes ``branch``.
        include_submodules: also check out submodules, with the same credentials.
        pull_interval: seconds between pulls when served; ``None``: once.
        directories: pull only these folders (a sparse, blobless checkout).

    Example::

        storage = GitRepository(
            url="https://github.com/org/repo.git",
            credentials={"username": "oauth2", "access_token": "my-access-token"},
        )
        await storage.pull_code()
    """

    def __init__(
        self,
        url: str,
        credentials: Any = None,
        name: str | None = None,
        branch: str | None = None,
        commit_sha: str | None = None,
        include_submodules: bool = False,
        pull_interval: int | None = 60,
        directories: list[str] | None = None,
    ) -> None:
        super().__init__(pull_interval)
        if credentials is None:
            credentials = {}
        if isinstance(credentials, Mapping):
            credentials = dict(credentials)
            if credentials.get("username") and not any(credentials.get(k) for k in _TOKEN_KEYS):
                raise StorageConfigError(
                    "If a username is provided, an access token or password must also be provided."
                )
        if branch and commit_sha:
            raise StorageConfigError("Cannot provide both a branch and a commit SHA. Please provide only one.")
        if branch and branch.startswith("-"):
            raise StorageConfigError("Branch names cannot start with '-'.")
        if commit_sha and not _COMMIT_SHA.match(commit_sha):
            raise StorageConfigError(
                f"Invalid commit SHA: {commit_sha!r}. Expected a hexadecimal Git commit SHA (4-64 characters). "
                "If you are trying to specify a branch or tag name, use the 'branch' parameter instead."
            )
        if isinstance(directories, str):
            directories = [directories]
        for directory in directories or []:
            if directory.startswith("--"):
                warnings.warn(
                    f"Directory {directory!r} starts with '--' and is taken as a path inside the repository.",
                    UserWarning,
                    stacklevel=2,
                )
        embedded = urlsplit(url)
        if embedded.scheme in ("http", "https") and embedded.password and not template_names(url):
            remember_secret(embedded.password)
        self._url = url
        self._branch = branch
        self._commit_sha = commit_sha
        self._credentials = credentials
        self._include_submodules = include_submodules
        self._directories = list(directories) if directories else None
        self._name = name or self._default_name()

    # -- identity -------------------------------------------------------------------

    def _repo_name(self) -> str:
        path = urlsplit(self._url).path or self._url.rpartition(":")[2]
        tail = path.rstrip("/").split("/")[-1]
        return tail[:-4] if tail.endswith(".git") else tail

    def _default_name(self) -> str:
        safe_branch = self._branch.replace("/", "-") if self._branch else None
        return f"{self._repo_name()}-{safe_branch}" if safe_branch else self._repo_name()

    @property
    def destination(self) -> Path:
        """``base path / name``."""
        return self._storage_base_path / self._name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GitRepository):
            return False
        return (strip_credentials(self._url), self._branch, self._name, self._commit_sha, self._directories) == (
            strip_credentials(other._url), other._branch, other._name, other._commit_sha, other._directories
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"GitRepository(name={self._name!r} repository={strip_credentials(self._url)!r}, branch={self._branch!r})"

    # -- credentials -----------------------------------------------------------------

    def _auth(self) -> tuple[GitAuth | None, str | None]:
        """``(HTTP auth, SSH private key)`` resolved now (blocks, secret strings, templates)."""
        creds = self._credentials
        host = urlsplit(self._url).netloc.rpartition("@")[2]
        if not creds:
            return None, None
        if is_block(creds) and callable(getattr(creds, "format_git_credentials", None)):
            from prefect_storage.backends.git import url_credentials

            formatted = url_credentials(creds.format_git_credentials(strip_credentials(self._url)))
            return (GitAuth(*formatted) if formatted else None), None
        if is_block(creds) or is_secret_str(creds):
            fields = _block_fields(creds)
        else:
            fields = dict(creds)
        values = {key: reveal(value) for key, value in fields.items() if value is not None}
        ssh_key = values.get("ssh_private_key")
        token = next((values[k] for k in _TOKEN_KEYS if values.get(k)), None)
        if token is None:
            if ssh_key:
                return None, str(ssh_key)
            raise StorageConfigError(
                "Please provide a `token`, `access_token` or `password` in the credentials to clone a repository."
            )
        if not isinstance(token, str):
            raise StorageConfigError("The access token must be a string (or a Secret block holding one).")
        username = values.get("username")
        return format_git_auth(host, token, str(username) if username else None), ssh_key

    @contextlib.contextmanager
    def _remote(self) -> Iterator[GitRemote]:
        auth, ssh_key = self._auth()
        remote = GitRemote.parse(self._url, auth)
        if not ssh_key:
            yield remote
            return
        # A deploy key lives in a 0600 file for the length of the pull; its path (not the
        # key) goes into GIT_SSH_COMMAND.
        remember_secret(ssh_key)
        fd, key_path = tempfile.mkstemp(prefix=".deploy-key-", dir=self._storage_base_path)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(ssh_key if ssh_key.endswith("\n") else ssh_key + "\n")
            os.chmod(key_path, 0o600)
            base = os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
            yield dataclasses.replace(remote, ssh_command=f"{base} -i {key_path} -o IdentitiesOnly=yes")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(key_path)

    # -- pulling ---------------------------------------------------------------------

    def pull_code_sync(self) -> None:
        """Clone or update :attr:`destination` (see the module docstring for what is transferred)."""
        ref = GitRef(branch=self._branch, commit=self._commit_sha)
        self._storage_base_path.mkdir(parents=True, exist_ok=True)
        with self._remote() as remote:
            result = sync_worktree(
                remote, ref, self.destination, directories=self._directories, submodules=self._include_submodules
            )
        logger.debug("Pulled %s at %s into %s (fetched: %s).", remote.url, result.commit, result.root, result.fetched)

    # -- serialisation ---------------------------------------------------------------

    def to_pull_step(self) -> dict[str, Any]:
        """A ``git_clone`` pull step; credentials appear only as block references or ``$VAR`` templates."""
        step: dict[str, Any] = {"repository": strip_credentials(self._url), "branch": self._branch}
        if self._name != self._default_name():
            step["clone_directory_name"] = self._name
        if self._directories:
            step["directories"] = list(self._directories)
        if self._include_submodules:
            step["include_submodules"] = True
        if self._commit_sha:
            step["commit_sha"] = self._commit_sha
        creds = self._credentials
        if is_block(creds):
            step["credentials"] = placeholder(creds)
        elif isinstance(creds, Mapping) and creds:
            rendered: dict[str, Any] = {}
            for key, value in creds.items():
                if is_block(value):
                    rendered[key] = placeholder(value)
                elif isinstance(value, str) and (key not in (*_TOKEN_KEYS, "ssh_private_key") or template_names(value)):
                    rendered[key] = value
                elif value is not None:
                    raise ValueError(
                        "Please save your access token as a Secret block (or use a $VARIABLE template) before "
                        "converting this storage object to a pull step."
                    )
            step["credentials"] = rendered
        elif creds:
            raise ValueError("Credentials given as a literal secret cannot be written into a pull step; save them as a block.")
        return {"prefect.deployments.steps.git_clone": step}


def _block_fields(block: Any) -> dict[str, Any]:
    """The credential fields of a block (ours or Prefect's), by duck typing."""
    if callable(getattr(block, "get", None)) and not hasattr(block, "token"):
        return {"access_token": block}  # a Secret block: the token itself
    if is_secret_str(block):
        return {"access_token": block}
    names = ("username", "access_token", "token", "password", "ssh_private_key")
    return {name: getattr(block, name) for name in names if getattr(block, name, None) is not None}
