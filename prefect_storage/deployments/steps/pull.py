"""Pull steps: get the flow's code into the working directory before a run.

Each returns ``{"directory": ...}``; the last ``directory`` output becomes the
working directory the entrypoint is loaded from. Pulls into a folder that already
holds an earlier pull of the same source update it incrementally (the runner
storages fetch only what changed). Transient failures (connection, timeout, a 5xx)
are retried with backoff; authentication failures are not.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prefect_storage import config
from prefect_storage.exceptions import BackendUnavailableError, StorageConfigError

logger = logging.getLogger("prefect_storage.deployments.steps")

__all__ = ["git_clone", "pull_from_remote_storage", "pull_with_block", "set_working_directory"]

# The working directory the current pull steps started in (relative paths resolve against it).
_source_cwd: contextvars.ContextVar[Path | None] = contextvars.ContextVar("prefect_storage_pull_cwd", default=None)

PULL_ATTEMPTS = config.pull_attempts()


@contextlib.contextmanager
def pull_context() -> Iterator[None]:
    token = _source_cwd.set(Path.cwd())
    try:
        yield
    finally:
        _source_cwd.reset(token)


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, PermissionError):  # StorageAuthError: a wrong token never gets better
        return False
    return isinstance(exc, (BackendUnavailableError, ConnectionError, TimeoutError))


def pull_with_retries(storage: Any, what: str) -> None:
    """``storage.pull_code_sync()`` retried on transient errors (tenacity, exponential backoff)."""
    import tenacity

    def log_retry(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        logger.warning("Pulling %s failed (%s); retry %d of %d", what, error, state.attempt_number, PULL_ATTEMPTS - 1)

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, PULL_ATTEMPTS)),
        wait=tenacity.wait_exponential(multiplier=0.5, max=8),
        retry=tenacity.retry_if_exception(_transient),
        before_sleep=log_retry,
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            pull_code(storage)


def pull_code(storage: Any) -> None:
    """Pull through the sync entry point when the storage has one."""
    sync = getattr(storage, "pull_code_sync", None)
    if callable(sync):
        sync()
        return
    import asyncio

    asyncio.run(storage.pull_code())


def set_working_directory(directory: str) -> dict[str, str]:
    """Change into ``directory`` (relative paths: against where the pull steps started).

    Returns ``{"directory": <absolute path>}``.
    """
    base = _source_cwd.get()
    path = Path(directory).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.is_dir():
        raise StorageConfigError(f"set_working_directory: {path} is not a directory here.")
    os.chdir(path)
    return {"directory": os.getcwd()}


def git_clone(
    repository: str,
    branch: str | None = None,
    commit_sha: str | None = None,
    include_submodules: bool = False,
    access_token: Any = None,
    credentials: Any = None,
    directories: list[str] | None = None,
    clone_directory_name: str | None = None,
) -> dict[str, str]:
    """Clone (or update) ``repository`` into the current directory.

    ``access_token`` (a string or ``Secret`` block) and ``credentials`` (a dict with
    ``username``/``access_token``, or a credentials block) are mutually exclusive;
    ``directories`` checks out only those folders; ``commit_sha`` pins the commit.
    Returns ``{"directory": <the clone, relative to the cwd>}``.
    """
    from prefect_storage.runner.storage import GitRepository

    if access_token is not None and credentials is not None:
        raise StorageConfigError("git_clone: give either access_token or credentials, not both.")
    if access_token is not None:
        credentials = {"access_token": access_token}
    storage = GitRepository(
        url=repository,
        credentials=credentials,
        name=clone_directory_name,
        branch=branch,
        commit_sha=commit_sha,
        include_submodules=include_submodules,
        directories=directories,
    )
    storage.set_base_path(Path.cwd())
    pull_with_retries(storage, f"git repository {repository}")
    return {"directory": _relative(Path(storage.destination))}


def pull_from_remote_storage(url: str, **settings: Any) -> dict[str, str]:
    """Pull the folder at fsspec ``url`` (``s3://``, ``gs://``, ``az://``, ...) into the
    current directory; ``settings`` go to the fsspec filesystem (``key``, ``secret``,
    ``client_kwargs``, ``token``, ``account_name``...). Returns ``{"directory"}``."""
    from prefect_storage.runner.storage import RemoteStorage

    storage = RemoteStorage(url, **settings)
    storage.set_base_path(Path.cwd())
    pull_with_retries(storage, url)
    return {"directory": _relative(Path(storage.destination))}


def pull_with_block(block_document_name: str, block_type_slug: str) -> dict[str, str]:
    """Pull with a saved storage block (anything with ``get_directory``), e.g.
    ``block_type_slug="s3-bucket"``. Returns ``{"directory"}``."""
    from prefect_storage.deployments.blockref import load_block
    from prefect_storage.runner.storage import BlockStorageAdapter

    block = load_block(block_type_slug, block_document_name)
    storage = BlockStorageAdapter(block)
    storage.set_base_path(Path.cwd())
    pull_with_retries(storage, f"block {block_type_slug}/{block_document_name}")
    return {"directory": _relative(Path(storage.destination))}
