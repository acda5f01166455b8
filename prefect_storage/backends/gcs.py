"""Google Cloud Storage as an :class:`ObjectStore`.

Credentials, in the classic order: the secret ``GCP_CREDENTIALS`` (service-account
info as JSON), else Application Default Credentials. With ``STORAGE_EMULATOR_HOST``
set (a local emulator such as fake-gcs-server) the client is anonymous.

The object's *generation* is the validator. A warm load asks for the object's
metadata and compares generations instead of sending a conditional read: some
emulators ignore read preconditions, and a metadata GET is as cheap.
"""

from __future__ import annotations

import json
import os
from typing import Any

from prefect_storage.backends.clients import ClientCache
from prefect_storage.backends.errors import typed_error
from prefect_storage.backends.objects import BucketNotFoundError, ObjectInfo, ObjectStore
from prefect_storage.backends.optional import require
from prefect_storage.exceptions import FlowNotFoundError, StorageConfigError, StorageError

_clients: ClientCache[tuple[Any, ...], Any] = ClientCache()


def _credentials() -> tuple[Any, str]:
    """``(credentials or None, description of the source)``."""
    from prefect_storage.secrets import find

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        return None, f"anonymous access to the emulator at STORAGE_EMULATOR_HOST={os.environ['STORAGE_EMULATOR_HOST']}"
    raw = find("GCP_CREDENTIALS")
    if raw is not None:
        require("google.oauth2.service_account", extra="gcp", purpose="GCS")
        from google.oauth2 import service_account

        try:
            info = json.loads(raw)
            return service_account.Credentials.from_service_account_info(info), "the GCP_CREDENTIALS secret"  # type: ignore[no-untyped-call]
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageConfigError(
                "The secret GCP_CREDENTIALS must hold a service account key (JSON) as downloaded from Google Cloud: "
                f"{type(exc).__name__}."
            ) from None
    return None, "Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud login or the metadata server)"


def credential_source() -> str:
    """Which credential source :func:`client` uses, for messages (never a value)."""
    try:
        return _credentials()[1]
    except StorageError:
        return "the GCP_CREDENTIALS secret (invalid)"


def client(project: str | None = None) -> Any:
    """A (cached) ``google.cloud.storage.Client``."""
    storage = require("google.cloud.storage", extra="gcp", purpose="GCS")
    credentials, source = _credentials()
    key = (project, os.environ.get("STORAGE_EMULATOR_HOST"), source, id(credentials) if credentials else None)

    def make() -> Any:
        try:
            if os.environ.get("STORAGE_EMULATOR_HOST"):
                from google.auth.credentials import AnonymousCredentials

                return storage.Client(project=project or "local-emulator", credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
            if credentials is not None:
                return storage.Client(project=project or credentials.project_id, credentials=credentials)
            return storage.Client(project=project)
        except Exception as exc:
            raise _auth_error(exc, source) from None

    if credentials is not None:
        return make()  # not cached: the secret may change between runs
    return _clients.get(key, make)


def _auth_error(exc: BaseException, source: str) -> BaseException:
    if _is_auth_error(exc):
        return typed_error(
            "auth",
            f"Google Cloud refused or could not find credentials ({type(exc).__name__}). Credentials used: {source}. "
            "Set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, run `gcloud auth application-default "
            "login`, or store the key as the GCP_CREDENTIALS secret."
        )
    return exc


def _is_auth_error(exc: BaseException) -> bool:
    import google.auth.exceptions as gae
    from google.api_core import exceptions as gex

    return isinstance(exc, (gae.DefaultCredentialsError, gae.RefreshError, gex.Unauthorized, gex.Forbidden))


def _is_connection_error(exc: BaseException) -> bool:
    import google.auth.exceptions as gae
    import requests
    import urllib3.exceptions as uex

    return isinstance(exc, (requests.ConnectionError, requests.Timeout, uex.ProtocolError, gae.TransportError, ConnectionError))


def is_transient(exc: BaseException) -> bool:
    """5xx, 429 and dropped connections are retried; everything else surfaces at once."""
    if isinstance(exc, StorageError):
        return False
    from google.api_core import exceptions as gex

    return isinstance(exc, (gex.ServerError, gex.TooManyRequests)) or _is_connection_error(exc)


class GCSStore(ObjectStore):
    """One GCS bucket; ``project`` only matters for billing and ADC without a project."""

    scheme = "gs"
    service = "GCS"

    def __init__(self, bucket: str, project: str | None = None) -> None:
        super().__init__(bucket)
        self.project = project

    @property
    def bucket(self) -> Any:
        return client(self.project).bucket(self.container)

    def endpoint(self) -> str:
        return os.environ.get("STORAGE_EMULATOR_HOST") or "gcs"

    def is_transient(self, exc: BaseException) -> bool:
        return is_transient(exc)

    def not_found(self, key: str) -> FlowNotFoundError:
        """The classic message for a missing blob."""
        return FlowNotFoundError(f"Flow not found in bucket: flow={key} bucket={self.container}")

    # -- transport ------------------------------------------------------------------

    def _download(self, key: str, generation: Any = None) -> tuple[bytes, str]:
        blob = self.bucket.blob(key, generation=generation)
        data = blob.download_as_bytes(retry=None)
        if blob.generation is None:
            blob.reload(retry=None)
        return data, str(blob.generation or "")

    def get(self, key: str) -> tuple[bytes, str]:
        return self._call(lambda: self._download(key), key, "download")

    def get_if_changed(self, key: str, validator: str) -> tuple[bytes, str] | None:
        def fetch() -> tuple[bytes, str] | None:
            blob = self.bucket.get_blob(key, retry=None)
            if blob is None:
                raise self._missing(key)
            if str(blob.generation) == validator:
                return None
            return self._download(key, blob.generation)

        return self._call(fetch, key, "download")

    def put(self, key: str, data: bytes) -> None:
        self._call(
            lambda: self.bucket.blob(key).upload_from_string(data, content_type="application/octet-stream", retry=None),
            key,
            "upload",
        )

    def head(self, key: str) -> str | None:
        def fetch() -> str | None:
            blob = self.bucket.get_blob(key, retry=None)
            if blob is None:
                if not self._bucket_exists():
                    raise self._no_bucket()
                return None
            return str(blob.generation)

        return self._call(fetch, key, "check")

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        def fetch() -> list[ObjectInfo]:
            blobs = self.bucket.client.list_blobs(self.bucket, prefix=prefix or None, retry=None)
            return sorted((ObjectInfo(b.name, int(b.size or 0), str(b.generation or "")) for b in blobs),
                          key=lambda o: o.key)

        return self._call(fetch, prefix, "listing")

    # -- errors ---------------------------------------------------------------------

    def _bucket_exists(self) -> bool:
        return bool(self.bucket.exists(retry=None))

    def _no_bucket(self) -> BucketNotFoundError:
        return self.no_container(credential_source())

    def _missing(self, key: str) -> StorageError:
        try:
            exists = self._bucket_exists()
        except Exception:
            exists = True
        return self.not_found(key) if exists else self._no_bucket()


    def translate(self, exc: BaseException, key: str, what: str) -> BaseException:
        from google.api_core import exceptions as gex

        if isinstance(exc, gex.NotFound):
            return self._missing(key)
        if _is_auth_error(exc):
            advice = "Check the account's permissions on the bucket."
            return self.refused(what, key, type(exc).__name__, credential_source(), advice)
        if isinstance(exc, gex.PreconditionFailed):
            return self.failed(what, key, "the object changed or already exists.", verb="refused")
        if is_transient(exc):
            return self.unavailable(what, key, str(exc))
        return self.failed(what, key, f"{type(exc).__name__}: {exc}")
