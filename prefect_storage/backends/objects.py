"""What S3, GCS and Azure Blob have in common: an :class:`ObjectStore` by bucket + key,
and :func:`cached_get`, the warm-load path shared by every object-store storage.

A store is made at the moment of use, from settings already rendered, and holds no
credential itself (clients come from per-process caches in the service modules).
It is storage-agnostic: ``get``/``get_if_changed``/``put``/``head`` by key, so the
classic storages, the results and a later ``RemoteStorage`` share one transport.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

from prefect_storage.backends.cache import PayloadCache
from prefect_storage.backends.retry import call_with_retries
from prefect_storage.exceptions import BucketNotFoundError, StorageError
from prefect_storage.secrets import get_logger

logger = get_logger("backends.objects")

__all__ = ["BucketNotFoundError", "ObjectStore", "cached_get"]


class ObjectStore(abc.ABC):
    """One bucket (or container) of an object store."""

    #: URL scheme in messages and cache keys, e.g. ``"s3"``
    scheme: str = ""
    #: what the bucket is called by this service ("bucket", "container")
    container_word: str = "bucket"
    #: the service's name in messages ("S3", "GCS", "Azure")
    service: str = ""

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

    def retry(self, fn: Callable[[], object], what: str) -> object:
        return call_with_retries(fn, self.is_transient, what)

    def _call(self, fn: Callable[[], object], key: str, what: str) -> object:
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
        """A typed, actionable error for a failed call (never holding a secret)."""

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

