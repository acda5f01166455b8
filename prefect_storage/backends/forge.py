"""What the API-based git storages (GitHub, GitLab, Bitbucket, CodeCommit) share: the
classification of their SDK / HTTP errors, a ref resolved to a commit id once per load,
and the file cached by (repository, path, commit).

Errors. Each backend says *which kind* of failure an SDK exception or HTTP answer is
(:mod:`prefect_storage.backends.errors`: the kind picks the error class);
:data:`WORDING` holds each forge's classic message for each kind.

:func:`forge_call` runs one call and raises the typed error *outside* the ``except``
block, so nothing of the SDK's exception (whose text may hold a token) is chained.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TypeVar

from prefect_storage.backends.cache import PayloadCache
from prefect_storage.backends.errors import Kind, status_kind, typed_error
from prefect_storage.exceptions import StorageError

__all__ = ["WORDING", "Failure", "ForgeErrors", "Kind", "cached_file", "classify_sdk", "forge_call", "status_kind"]

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class ForgeErrors:
    """One backend's wording of each kind of failure. Templates are ``str.format``-ed with
    the fields of the call and of the failure (``what``, ``detail``, ``where``...).
    ``missing`` is given per call (it names the repository, ref or file asked for and is
    used as it is); ``missing_suffix`` is a template appended to it."""

    auth: str
    denied: str
    failed: str
    offline: str
    missing_suffix: str = ""

    def error(self, kind: Kind, missing: str, **fields: object) -> StorageError:
        """The typed error for ``kind``."""
        if kind == "missing":
            return typed_error(kind, missing + self.missing_suffix.format(**fields))
        return typed_error(kind, getattr(self, kind).format(**fields))


#: what a backend's classifier says of an exception: its kind and the fields of the message
Failure = tuple[Kind, Mapping[str, object]]

_BITBUCKET_DENIED = (
    "Access denied to repository. Please check credentials. ({where}, HTTP {status}; "
    "hint: check the token / app password secrets and their permissions.)"
)

#: Each forge's wording, as its classic storage worded it. Fields: ``what`` (the
#: operation), ``detail``, ``status`` (HTTP status or AWS error code), and per forge
#: ``base_url`` / ``host`` / ``base`` / ``where`` / ``source``.
WORDING: dict[str, ForgeErrors] = {
    "github": ForgeErrors(
        auth=(
            "GitHub refused the token while {what} ({base_url}). Hint: check the access token secret "
            "(or GITHUB_ACCESS_TOKEN) and that it may read this repository."
        ),
        denied="GitHub denied access while {what}: {detail}. Hint: check the token's scopes.",
        failed="GitHub error while {what}: {status} {detail}",
        offline="GitHub ({base_url}) could not be reached while {what}: {detail}",
    ),
    "gitlab": ForgeErrors(
        auth=(
            "Unable to authenticate GitLab account. Please check your credentials. "
            "({host}, while {what}; hint: check the access token secret or GITLAB_ACCESS_TOKEN.)"
        ),
        denied="GitLab denied access while {what}. Hint: check the token's scopes.",
        failed="GitLab error while {what}: {status} {detail}",
        offline="GitLab ({host}) could not be reached while {what}: {detail}",
    ),
    "bitbucket": ForgeErrors(
        auth=_BITBUCKET_DENIED,
        denied=_BITBUCKET_DENIED,  # Bitbucket answers 401 or 403 for the same mistakes: one message
        failed=(
            "Error retrieving contents in {where}: HTTP {status} {detail}. "
            "Please check arguments passed to Bitbucket storage."
        ),
        offline="Bitbucket ({base}) could not be reached: {detail}",
    ),
    "codecommit": ForgeErrors(
        auth=(
            "AWS refused the credentials while {what} ({status}); credentials came from {source}. "
            "Hint: check them and the codecommit:Get* permissions."
        ),
        denied="",  # CodeCommit names its errors (AUTH_CODES): no bare 403 reaches the classifier
        failed="CodeCommit error while {what}: {status} {detail}",
        offline="CodeCommit could not be reached while {what}: {detail}",
        missing_suffix=" ({status})",
    ),
}


ExcTypes = type[BaseException] | tuple[type[BaseException], ...]


def classify_sdk(
    exc: Exception,
    *,
    auth: ExcTypes,
    error: ExcTypes,
    offline: ExcTypes,
    status: str,
    detail: str,
    missing: tuple[int, ...] = (404,),
    missing_types: ExcTypes = (),
) -> Failure | None:
    """Classify an exception of an HTTP-API SDK (PyGithub, python-gitlab): ``auth``
    classes are auth failures; ``error`` classes by the HTTP status in their attribute
    ``status`` (``missing_types`` are always missing), with their attribute ``detail`` as
    the detail; ``offline`` classes (``requests`` errors) mean the service was not reached."""
    if isinstance(exc, auth):
        return "auth", {}
    if isinstance(exc, error):
        code = getattr(exc, status, None)
        kind = "missing" if isinstance(exc, missing_types) else status_kind(code, missing=missing)
        return kind, {"status": code, "detail": getattr(exc, detail, None)}
    if isinstance(exc, offline):
        return "offline", {"detail": exc}
    return None


def forge_call(
    fn: Callable[[], T],
    classify: Callable[[Exception], Failure | None],
    errors: ForgeErrors,
    missing: str,
    adapt: Callable[[StorageError, Exception], StorageError] | None = None,
    **fields: object,
) -> T:
    """``fn()``; an exception ``classify`` recognizes becomes the typed error, any other
    propagates unchanged. ``adapt`` may turn the typed error into one that is also the
    SDK's own class (what classic code caught), from the original exception."""
    try:
        return fn()
    except Exception as exc:
        found = classify(exc)
        if found is None:
            raise
        original = exc
    kind, more = found
    error = errors.error(kind, missing, **{**fields, **more})
    # Raised outside the except block: nothing of the SDK's exception is chained.
    raise adapt(error, original) if adapt else error


def cached_file(namespace: str, repo_key: str, path: str, commit: str, fetch: Callable[[], bytes]) -> bytes:
    """The bytes of ``path`` at ``commit``: from the on-disk cache, else ``fetch()`` (then cached).

    A commit id names immutable content, so a hit needs no request at all.
    ``repo_key`` must identify the repository without credentials (host + name).
    """
    cache = PayloadCache(namespace)
    key = f"{repo_key}\0{path}\0{commit}"
    hit = cache.get(key)
    if hit is not None and hit[0] == commit:
        return hit[1]
    data = fetch()
    cache.put(key, commit, data)
    return data
