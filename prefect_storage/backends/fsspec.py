"""fsspec as a transport: any ``protocol://`` folder, listed with validators and fetched.

``RemoteStorage`` and the storage blocks reach S3, GCS, Azure and every other fsspec
filesystem through this module, so that their ``**settings`` mean exactly what they
mean to fsspec (and to Prefect): ``key``/``secret``/``client_kwargs`` for s3fs,
``token``/``project``/``endpoint_url`` for gcsfs, ``account_name``/``connection_string``
for adlfs. The classic storages keep their SDK clients (``backends/s3.py`` ...); both
share the scheme map (:mod:`prefect_storage.backends.schemes`).

Listing is one recursive ``find`` (one request per 1000 objects on S3, GCS and Azure)
and each entry carries a *validator*: the ETag, generation or md5 the service reports,
plus the size; for filesystems that report neither, size and modification time.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any

from prefect_storage.backends.schemes import ensure_installed, lookup, scheme_of
from prefect_storage.exceptions import (
    BackendUnavailableError,
    BucketNotFoundError,
    FlowNotFoundError,
    FlowStorageError,
    StorageAuthError,
    StorageError,
)

__all__ = ["RemoteEntry", "filesystem", "list_folder", "split_url", "translate"]

# Keys that identify an object's content, best first, by service.
_VALIDATOR_KEYS = ("generation", "ETag", "etag", "md5Hash", "content_md5", "md5", "checksum")
_TIME_KEYS = ("mtime", "LastModified", "last_modified", "updated", "modified", "created")


@dataclasses.dataclass(frozen=True)
class RemoteEntry:
    """One remote file: its path relative to the folder, size and content validator."""

    relative: str
    path: str  # the full path as fsspec names it
    size: int
    validator: str


def split_url(url: str) -> tuple[str, str]:
    """``("s3", "bucket/folder")`` for ``s3://bucket/folder/``; local paths give ``("file", path)``."""
    scheme = scheme_of(url) or "file"
    path = url.split("://", 1)[1] if "://" in url else url
    return scheme, path.rstrip("/")


def filesystem(scheme: str, settings: Mapping[str, Any]) -> Any:
    """An fsspec filesystem for ``scheme`` built with ``settings`` (already resolved)."""
    import fsspec

    try:
        known = lookup(scheme)
    except StorageError:
        known = None
    if known is not None:
        ensure_installed(known)
    protocol = known.protocol if known is not None else scheme
    if protocol == "gcs" and os.environ.get("STORAGE_EMULATOR_HOST"):
        # gcsfs's zonal/HNS probing speaks gRPC to the control API, which an emulator
        # does not serve (each probe waits for a 60 s timeout); emulators have neither.
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
    try:
        return fsspec.filesystem(protocol, **dict(settings))
    except (ImportError, ValueError) as exc:
        if known is None and "Protocol not known" in str(exc):
            from prefect_storage.backends.schemes import describe_known
            from prefect_storage.exceptions import UnknownSchemeError

            raise UnknownSchemeError(
                f"No fsspec filesystem for {scheme + '://'!r}. Known schemes: {describe_known()}."
            ) from None
        raise


def _validator(info: Mapping[str, Any]) -> str:
    size = info.get("size")
    for key in _VALIDATOR_KEYS:
        value = info.get(key)
        if value not in (None, ""):
            return f"{key}={value}|size={size}"
    for key in _TIME_KEYS:
        value = info.get(key)
        if value not in (None, ""):
            return f"{key}={value}|size={size}"
    return f"size={size}|" + json.dumps({k: str(v) for k, v in sorted(info.items())})


def list_folder(fs: Any, root: str) -> dict[str, RemoteEntry]:
    """Every file under ``root`` (recursively), by relative POSIX path, from one listing."""
    root = root.rstrip("/")
    fs.invalidate_cache(root)  # a cached listing would hide remote changes
    found = fs.find(root, detail=True, withdirs=False)
    prefix = fs._strip_protocol(root).rstrip("/") + "/"
    entries: dict[str, RemoteEntry] = {}
    for path, info in found.items():
        if info.get("type") == "directory":
            continue
        name = fs._strip_protocol(path)
        if not name.startswith(prefix):
            continue  # the root itself as a file
        relative = name[len(prefix):]
        if not relative or relative.endswith("/") or any(p in ("", ".", "..") for p in relative.split("/")):
            continue  # folder placeholders, and names that would escape the destination
        entries[relative] = RemoteEntry(relative, path, int(info.get("size") or 0), _validator(info))
    return entries


def _status(exc: BaseException) -> int:
    for attr in ("status", "status_code", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return 0


def translate(exc: BaseException, url: str, what: str) -> StorageError:
    """A typed error with a hint for a failed fsspec call on ``url`` (no secret in it)."""
    if isinstance(exc, StorageError):
        return exc
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()
    status = _status(exc)
    if "nosuchbucket" in lowered or "bucket does not exist" in lowered or "containernotfound" in lowered or (
        "specified container does not exist" in lowered
    ):
        return BucketNotFoundError(f"The {what} of {url} failed: the bucket or container does not exist. ({text})")
    if isinstance(exc, PermissionError) or status in (401, 403) or any(
        word in lowered for word in ("accessdenied", "invalidaccesskeyid", "signaturedoesnotmatch", "forbidden",
                                     "authenticationfailed", "unauthorized", "invalid credentials", "403", "401")
    ):
        return StorageAuthError(
            f"The {what} of {url} was refused: check the credentials (key/secret, token, account key) and their "
            f"permissions. ({text})"
        )
    if isinstance(exc, FileNotFoundError) or status == 404:
        return FlowNotFoundError(f"Nothing found at {url} ({text}). Check the path.")
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)) or "connect" in lowered or "timeout" in lowered:
        return BackendUnavailableError(f"The {what} of {url} failed: the service could not be reached. ({text})")
    return FlowStorageError(f"The {what} of {url} failed: {text}")
