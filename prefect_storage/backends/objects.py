"""What S3, GCS and Azure Blob have in common: an :class:`ObjectStore` by bucket + key,
and :func:`cached_get`, the warm-load path shared by every object-store storage.

A store is made at the moment of use, from settings already rendered, and holds no
credential itself (clients come from per-process caches in the service modules).
It is storage-agnostic: ``get``/``get_if_changed``/``put``/``head`` by key, so the
classic storages, the results and a later ``RemoteStorage`` share one transport.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable
from typing import TypeVar

from prefect_storage.backends.cache import PayloadCache
from prefect_storage.backends.errors import typed_error
from prefect_storage.backends.retry import call_with_retries
from prefect_storage.exceptions import BucketNotFoundError, FlowStorageError, StorageError
from prefect_storage.secrets import get_logger

logger = get_logger("backends.objects")
T = TypeVar("T")

__all__ = ["BucketNotFoundError", "ObjectInfo", "ObjectStore", "cached_get"]


@dataclasses.dataclass(frozen=True)
class ObjectInfo:
    """One object from a listing: its key, size and validator (S3 ETag, GCS generation, Azure ETag)."""

    key: str
    size: int
    validator: str


class ObjectStore(abc.ABC):
    """One bucket (or container) of an object store."""

    #: URL scheme in messages and cache keys, e.g. ``"s3"``
    scheme: str = ""
    #: what the bucket is called by this service ("bucket", "container")
    container_word: str = "bucket"
    #: the service's name in messages ("S3", "GCS", "Azure")
    service: str = ""
    #: what an object is called by this service ("object", "blob")
    object_word: str = "object"

    def __init__(self, container: str) -> None:
        self.container = container

    def describe(self, key: str) -> str:
        """``s3://bucket/key``: how an object is named in messages."""
        return f"{self.scheme}://{self.container}/{key}"

    def cache_key(self, key: str) -> str:
        """Where the object lives, without credentials: the :class:`PayloadCache` key."""
        return f"{self.endpoint()}|{self.describe(key)}"

    def endpoint(self) -> str:
        """The service endpoint in use (default: the public service)."""
        return "default"

    def retry(self, fn: Callable[[], T], what: str) -> T:
        return call_with_retries(fn, self.is_transient, what)

    def _call(self, fn: Callable[[], T], key: str, what: str) -> T:
        """Run one service call with retries; turn what still fails into a typed error."""
        try:
            return self.retry(fn, f"{self.service} {what} of {self.describe(key)}")
        except StorageError:
            raise
        except Exception as exc:
            error = self.translate(exc, key, what)
        # Raised outside the except block, so the SDK's exception is not chained as
        # __context__ ("from None" only hides it): its text may hold a URL with a token.
        raise error

    @abc.abstractmethod
    def translate(self, exc: BaseException, key: str, what: str) -> BaseException:
        """A typed, actionable error for a failed call (never holding a secret); the
        helpers below word each kind (:mod:`.errors`) alike for every service."""

    # -- typed errors, worded alike for every service ---------------------------------

    def no_container(self, source: str) -> BucketNotFoundError:
        """The bucket (container) itself does not exist."""
        word = self.container_word
        return BucketNotFoundError(
            f"{self.service} {word} {self.container!r} does not exist (at {self.endpoint()}); create it or fix the "
            f"{word} name. Credentials used: {source}."
        )

    def no_object(self, key: str) -> StorageError:
        """Nothing at ``key`` (the bucket exists)."""
        return typed_error("missing", f"Flow not found in {self.service}: no {self.object_word} at {self.describe(key)}.")

    def refused(self, what: str, key: str, detail: str, source: str, advice: str) -> StorageError:
        """The service refused the credentials (``source`` says where they came from)."""
        return typed_error(
            "auth",
            f"{self.service} refused the credentials for the {what} of {self.describe(key)} ({detail}). "
            f"Credentials used: {source}. {advice}",
        )

    def unavailable(self, what: str, key: str, detail: str, at_endpoint: bool = True) -> StorageError:
        """Retrying did not get an answer."""
        at = f" at {self.endpoint()}" if at_endpoint else ""
        return typed_error(
            "offline", f"Could not complete the {self.service} {what} of {self.describe(key)}{at} after retrying: {detail}"
        )

    def failed(self, what: str, key: str, detail: str, verb: str = "failed") -> StorageError:
        """Any other failure of the call (a :class:`FlowStorageError`)."""
        return typed_error("failed", f"{self.service} {what} of {self.describe(key)} {verb}: {detail}", FlowStorageError)

    # -- transport ------------------------------------------------------------------

    @abc.abstractmethod
    def get(self, key: str) -> tuple[bytes, str]:
        """``(data, validator)`` of the object; ``FlowNotFoundError`` if it is missing."""

    @abc.abstractmethod
    def get_if_changed(self, key: str, validator: str) -> tuple[bytes, str] | None:
        """``None`` when the object still has ``validator`` (one request, no payload),
        else its new ``(data, validator)``."""

    @abc.abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key`` in one request: readers see all of it or nothing."""

    @abc.abstractmethod
    def head(self, key: str) -> str | None:
        """The object's validator, or ``None`` when it does not exist."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> list[ObjectInfo]:
        """Every object whose key starts with ``prefix``, with its validator, in key order
        (one request per page of the service's listing; no object is downloaded)."""

    @abc.abstractmethod
    def is_transient(self, exc: BaseException) -> bool:
        """Whether ``exc`` is worth retrying (5xx, throttling, a dropped connection)."""


def _cache(store: ObjectStore) -> PayloadCache:
    return PayloadCache(store.scheme)


def cached_get(store: ObjectStore, key: str) -> bytes:
    """The object's bytes, through the local payload cache.

    Cold: one full download, kept with its validator. Warm: one conditional request;
    an unchanged object is read from the cache (no payload transferred), a changed
    one is downloaded again. Integrity is the caller's business (the flow envelope
    digest is checked before anything is unpickled).
    """
    cache = _cache(store)
    cache_key = store.cache_key(key)
    cached = cache.get(cache_key)
    if cached is not None:
        validator, data = cached
        fresh = store.get_if_changed(key, validator)
        if fresh is None:
            logger.debug("%s unchanged (validator %s): loaded from the local cache.", store.describe(key), validator)
            return data
        data, validator = fresh
    else:
        data, validator = store.get(key)
    if validator:
        cache.put(cache_key, validator, data)
    return data

