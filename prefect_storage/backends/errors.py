"""The kinds of failure every backend reports, and the typed error of each kind.

A backend says *which kind* of failure an SDK exception or an HTTP answer is; the kind
picks the error class, so that S3, GCS, Azure, HTTP and the forges raise the same class
for the same problem (the wording stays each backend's own):

=============  ===============================================
kind           error
=============  ===============================================
``auth``       :class:`StorageAuthError` (401, bad credentials)
``denied``     :class:`StorageAuthError` (403: valid credentials, missing scope)
``missing``    :class:`FlowNotFoundError` (404: repository, ref, object or file)
``failed``     :class:`StorageError`, or the class the caller names
``offline``    :class:`BackendUnavailableError` (not reached, even after retrying)
=============  ===============================================
"""

from __future__ import annotations

from typing import Literal

from prefect_storage.exceptions import BackendUnavailableError, FlowNotFoundError, StorageAuthError, StorageError

__all__ = ["Kind", "status_kind", "typed_error"]

Kind = Literal["auth", "denied", "missing", "failed", "offline"]

_CLASSES: dict[str, type[StorageError]] = {
    "auth": StorageAuthError,
    "denied": StorageAuthError,
    "missing": FlowNotFoundError,
    "offline": BackendUnavailableError,
}


def status_kind(status: int | None, *, missing: tuple[int, ...] = (404,)) -> Kind:
    """The kind of failure an HTTP status code means (401 auth, 403 denied, 404 missing)."""
    if status in missing:
        return "missing"
    if status == 401:
        return "auth"
    return "denied" if status == 403 else "failed"


def typed_error(kind: Kind, message: str, failed: type[StorageError] = StorageError) -> StorageError:
    """The error of ``kind`` with ``message``; a ``failed`` one is of class ``failed``."""
    return _CLASSES.get(kind, failed)(message)
