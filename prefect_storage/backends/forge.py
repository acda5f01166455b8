"""What the API-based git storages (GitHub, GitLab, Bitbucket, CodeCommit) share: the
classification of their SDK / HTTP errors, a ref resolved to a commit id once per load,
and the file cached by (repository, path, commit).

Errors. Each backend says *which kind* of failure an SDK exception or HTTP answer is
(:func:`status_kind` for HTTP status codes); :class:`ForgeErrors` turns the kind into the
typed error, worded as that backend's classic storage worded it:

=============  ===============================  =====================================
kind           error                            when
=============  ===============================  =====================================
``auth``       :class:`StorageAuthError`        401, bad credentials
``denied``     :class:`StorageAuthError`        403: credentials valid, scope missing
``missing``    :class:`FlowNotFoundError`       404: repository, ref or file missing
``failed``     :class:`StorageError`            any other error answer
``offline``    :class:`BackendUnavailableError` the service could not be reached
=============  ===============================  =====================================

:func:`forge_call` runs one call and raises the typed error *outside* the ``except``
block, so nothing of the SDK's exception (whose text may hold a token) is chained.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Literal, TypeVar

from prefect_storage.backends.cache import PayloadCache
from prefect_storage.exceptions import BackendUnavailableError, FlowNotFoundError, StorageAuthError, StorageError

__all__ = ["Failure", "ForgeErrors", "Kind", "cached_file", "forge_call", "status_kind"]

T = TypeVar("T")
Kind = Literal["auth", "denied", "missing", "failed", "offline"]


def status_kind(status: int | None, *, missing: tuple[int, ...] = (404,), denied_is_auth: bool = False) -> Kind:
    """The kind of failure an HTTP status code means (401 auth, 403 denied, 404 missing)."""
    if status in missing:
        return "missing"
    if status == 401 or (status == 403 and denied_is_auth):
        return "auth"
    if status == 403:
        return "denied"
    return "failed"


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
            return FlowNotFoundError(missing + self.missing_suffix.format(**fields))
        if kind in ("auth", "denied"):
            return StorageAuthError((self.auth if kind == "auth" else self.denied).format(**fields))
        if kind == "offline":
            return BackendUnavailableError(self.offline.format(**fields))
        return StorageError(self.failed.format(**fields))


#: what a backend's classifier says of an exception: its kind and the fields of the message
Failure = tuple[Kind, Mapping[str, object]]


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
