"""Classic storages described the modern way: ``storage.to_runner_storage()`` / ``to_pull_step()``.

A classic storage that keeps a flow's *source* (a script in a folder, a bucket, a git
repository) maps onto a runner storage that pulls that source, plus an entrypoint
(``file.py:flow_name``, or ``pkg.module`` for ``Module``). A pickled flow has no
source to pull: :class:`~prefect_storage.exceptions.NoSourceError` says so.

=================  ==========================================================
classic            runner storage
=================  ==========================================================
Local (script)     ``LocalStorage(<folder of path>)``
Module             ``LocalStorage(<cwd>)`` + entrypoint ``pkg.module``
S3/GCS/Azure       ``RemoteStorage("s3://bucket/<folder of key>")`` (script mode)
Git                ``GitRepository(url, branch/tag/commit, directories=[folder])``
GitHub/GitLab/     ``GitRepository("https://host/<repo>.git", directories=[folder])``
Bitbucket
CodeCommit         ``GitRepository("https://git-codecommit.<region>.amazonaws.com/v1/repos/<repo>")``
Docker (script)    ``LocalStorage(<folder of path in the image>)``
Webhook            none (``NoSourceError``): a webhook holds one payload, not a folder
=================  ==========================================================

Secret names become ``${NAME}`` templates, resolved by the secret chain on the worker
(environment, run secrets, ``Secret`` blocks, secret managers), so no pull step ever
holds a value.
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import TYPE_CHECKING, Any

from prefect_storage.exceptions import NoSourceError

if TYPE_CHECKING:
    from prefect_storage.runner.base import RunnerStorage
    from prefect_storage.storage.base import Storage

__all__ = ["entrypoint_for", "to_runner_storage"]

_FULL_SHA = re.compile(r"^[0-9a-fA-F]{40}$")


def _template(secret_name: str | None) -> str | None:
    return "${" + secret_name + "}" if secret_name else None


def _folder(path: str | None) -> list[str] | None:
    folder = posixpath.dirname((path or "").strip("/"))
    return [folder] if folder else None


def _no_source(storage: Storage, why: str) -> NoSourceError:
    return NoSourceError(
        f"{type(storage).__name__} storage {why}: there is no source folder to pull, so it has no runner storage "
        "or pull step. Store the flow as a script (stored_as_script=True with a path/key) to deploy it the modern way."
    )


def _ref_kwargs(ref: str | None) -> dict[str, Any]:
    if not ref:
        return {}
    return {"commit_sha": ref} if _FULL_SHA.match(ref) else {"branch": ref}


def to_runner_storage(storage: Storage) -> RunnerStorage:
    """The runner storage that pulls ``storage``'s source (see the module docstring)."""
    from prefect_storage.runner.git import GitRepository
    from prefect_storage.runner.local import LocalStorage
    from prefect_storage.runner.remote import RemoteStorage

    kind = type(storage).__name__
    script = bool(getattr(storage, "stored_as_script", False))
    if kind == "Module":
        return LocalStorage(os.getcwd())
    if kind == "Local":
        if not script:
            raise _no_source(storage, "holds pickled flows")
        return LocalStorage(os.path.dirname(os.path.abspath(str(storage.path))))  # type: ignore[attr-defined]
    if kind == "Docker":
        if not script:
            raise _no_source(storage, "holds pickled flows in the image")
        return LocalStorage(posixpath.dirname(str(storage.path)))  # type: ignore[attr-defined]
    if kind == "Webhook":
        raise _no_source(storage, "serves one payload over HTTP, not a folder")
    if kind in ("S3", "GCS", "Azure"):
        if not script:
            raise _no_source(storage, "holds pickled flows")
        remote: RunnerStorage = _object_store(storage, kind, RemoteStorage)
        return remote
    if kind == "Git":
        git: RunnerStorage = _git(storage, GitRepository)
        return git
    if kind in ("GitHub", "GitLab", "Bitbucket", "CodeCommit"):
        forge: RunnerStorage = _forge(storage, kind, GitRepository)
        return forge
    raise _no_source(storage, "is not a storage this bridge knows")


def _object_store(storage: Any, kind: str, remote_cls: Any) -> Any:
    if kind == "S3":
        key, settings = storage.key, dict[str, Any]()
        options = dict(storage.client_options or {})
        client_kwargs = {k: options[k] for k in ("endpoint_url", "region_name") if options.get(k)}
        if client_kwargs:
            settings["client_kwargs"] = client_kwargs
        url = f"s3://{storage.bucket}"
    elif kind == "GCS":
        key = storage.key
        settings = {"project": storage.project} if storage.project else {}
        url = f"gs://{storage.bucket}"
    else:
        key = storage.blob_name
        settings = {"connection_string": _template(storage.connection_string_secret or "AZURE_STORAGE_CONNECTION_STRING")}
        url = f"az://{storage.container}"
    folder = posixpath.dirname((key or "").strip("/"))
    return remote_cls(f"{url}/{folder}".rstrip("/"), **settings)


def _git(storage: Any, repo_cls: Any) -> Any:
    from prefect_storage.backends.git import URL_PREFIXES

    if storage.git_clone_url_secret_name:
        raise NoSourceError(
            "Git storage with git_clone_url_secret_name keeps the whole URL secret; a pull step cannot name it. "
            "Give repo= and git_token_secret_name= instead."
        )
    repo = storage.repo
    if storage.use_ssh:
        url = repo if repo.startswith(URL_PREFIXES) else f"git@{storage.repo_host}:{repo}.git"
    else:
        url = repo if repo.startswith(URL_PREFIXES) else f"https://{storage.repo_host}/{repo}.git"
    credentials = None
    if storage.git_token_secret_name and not storage.use_ssh:
        credentials = {"access_token": _template(storage.git_token_secret_name)}
        if storage.git_token_username:
            credentials["username"] = storage.git_token_username
    ref: dict[str, Any] = {}
    if storage.commit:
        ref = {"commit_sha": storage.commit}
    elif storage.branch_name or storage.tag:
        ref = {"branch": storage.branch_name or storage.tag}
    return repo_cls(url, credentials=credentials, directories=_folder(storage.flow_path), **ref)


def _forge(storage: Any, kind: str, repo_cls: Any) -> Any:
    token = _template(getattr(storage, "access_token_secret", None))
    if kind == "GitHub":
        host = (storage.base_url or "https://github.com").replace("/api/v3", "").rstrip("/")
        if "api.github.com" in host:
            host = "https://github.com"
        url, path, ref = f"{host}/{storage.repo}.git", storage.path, storage.ref
    elif kind == "GitLab":
        host = (storage.host or "https://gitlab.com").rstrip("/")
        url, path, ref = f"{host}/{storage.repo}.git", storage.path, storage.ref
    elif kind == "Bitbucket":
        if storage.workspace:
            url = f"https://bitbucket.org/{storage.workspace}/{storage.repo}.git"
            user, password = _template(storage.cloud_username_secret), _template(storage.cloud_app_password_secret)
            credentials = {"username": user, "access_token": password} if user and password else None
            return repo_cls(url, credentials=credentials, directories=_folder(storage.path), **_ref_kwargs(storage.ref))
        host = (storage.host or "https://bitbucket.org").rstrip("/")
        url, path, ref = f"{host}/scm/{storage.project.lower()}/{storage.repo}.git", storage.path, storage.ref
    else:  # CodeCommit: git over HTTPS with the AWS credential helper on the worker
        region = (getattr(storage, "_client_options", None) or {}).get("region_name") or os.environ.get(
            "AWS_DEFAULT_REGION", "us-east-1"
        )
        url = f"https://git-codecommit.{region}.amazonaws.com/v1/repos/{storage.repo}"
        return repo_cls(url, directories=_folder(storage.path), **_ref_kwargs(storage.commit))
    credentials = {"access_token": token} if token else None
    return repo_cls(url, credentials=credentials, directories=_folder(path), **_ref_kwargs(ref))


def entrypoint_for(storage: Storage, flow_name: str) -> str:
    """``file.py:flow_name`` relative to the runner storage's destination (``pkg.module`` for Module)."""
    kind = type(storage).__name__
    if kind == "Module":
        return str(storage.module).partition(":")[0]  # type: ignore[attr-defined]
    location = storage.flows.get(flow_name) or getattr(storage, "path", None) or getattr(storage, "flow_path", None)
    for attr in ("key", "blob_name"):
        location = location or getattr(storage, attr, None)
    if not location:
        raise NoSourceError(f"{kind} storage does not know where the script of flow {flow_name!r} is.")
    runner = to_runner_storage(storage)
    directories = getattr(runner, "_directories", None)
    if kind in ("Local", "Docker"):
        relative = posixpath.basename(str(location))
    elif directories:
        relative = str(location).strip("/")  # a git checkout keeps the repository's layout
    else:
        relative = posixpath.basename(str(location))
    return f"{relative}:{flow_name}"
