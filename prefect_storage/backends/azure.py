"""Azure Blob Storage as an :class:`ObjectStore`.

The connection is found at the moment of use, in the classic order:

1. the secret named by ``connection_string_secret`` (through the secret chain);
2. the secret / environment variable ``AZURE_STORAGE_CONNECTION_STRING``.

The value is either a connection string or an account URL
(``https://account.blob.core.windows.net``). A connection string without
``AccountKey=`` or ``SharedAccessSignature=``, and an account URL, are used with
``DefaultAzureCredential`` (managed identity, environment, Azure CLI...).

Nothing here is stored on a storage or result object: clients live in a
per-process cache keyed by a hash of the connection string.
"""

from __future__ import annotations

import hashlib
from typing import Any

from prefect_storage.backends.clients import ClientCache
from prefect_storage.backends.objects import BucketNotFoundError, ObjectInfo, ObjectStore
from prefect_storage.backends.optional import require
from prefect_storage.exceptions import FlowStorageError, StorageConfigError, StorageError

ENV_NAME = "AZURE_STORAGE_CONNECTION_STRING"
NOT_PROVIDED = (
    "Azure connection string not provided. Set `AZURE_STORAGE_CONNECTION_STRING` environment variable "
    "or save connection string as Prefect secret."
)

_clients: ClientCache[str, Any] = ClientCache()


def connection(connection_string_secret: str | None = None, connection_string: str | None = None) -> tuple[str, str]:
    """``(connection string or account URL, description of where it came from)``."""
    from prefect_storage.secrets import find, remember_secret, render

    if connection_string:
        value = render(connection_string)
        remember_secret(value)
        remember_connection_secrets(value)
        return value, "the connection_string argument"
    if connection_string_secret:
        value = find(connection_string_secret)
        if value is None:
            raise StorageConfigError(
                f"The secret {connection_string_secret!r} (connection_string_secret) has no value. "
                "Set it as an environment variable, an agent secret or in the secrets file."
            )
        remember_connection_secrets(value)
        return value, f"the secret {connection_string_secret!r}"
    value = find(ENV_NAME)
    if value is None:
        raise StorageConfigError(NOT_PROVIDED)
    remember_connection_secrets(value)
    return value, f"the secret / environment variable {ENV_NAME}"


def remember_connection_secrets(value: str) -> None:
    """Redact the key or SAS on its own too, not only the whole connection string."""
    from prefect_storage.secrets import remember_secret

    for part in value.split(";"):
        name, _, secret = part.partition("=")
        if name.strip() in ("AccountKey", "SharedAccessSignature") and secret:
            remember_secret(secret)


def _uses_identity(value: str) -> bool:
    return value.startswith(("http://", "https://")) or not ("AccountKey=" in value or "SharedAccessSignature=" in value)


def describe_source(value: str, source: str) -> str:
    if _uses_identity(value):
        return f"{source} with DefaultAzureCredential"
    return f"{source} (account key or SAS)"


def service_client(value: str) -> Any:
    """A (cached) ``BlobServiceClient`` for a connection string or account URL.

    The SDK's own retries are off (``retry_total=0``): ours retry transient errors.
    """
    key = hashlib.sha256(value.encode()).hexdigest()

    def make() -> Any:
        blob = require("azure.storage.blob", extra="azure", purpose="Azure Blob storage")
        credential = None
        if _uses_identity(value):
            identity = require("azure.identity", extra="azure", purpose="Azure Blob storage")
            credential = identity.DefaultAzureCredential()
        if value.startswith(("http://", "https://")):
            return blob.BlobServiceClient(account_url=value, credential=credential, retry_total=0)
        try:
            return blob.BlobServiceClient.from_connection_string(value, credential=credential, retry_total=0)
        except ValueError:
            raise StorageConfigError(
                "The Azure connection string is malformed; copy it from the storage account's "
                "'Access keys' page (it has AccountName=, AccountKey= and an endpoint)."
            ) from None

    return _clients.get(key, make)


def _status(exc: BaseException) -> int:
    return int(getattr(exc, "status_code", 0) or 0)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, StorageError):
        return False
    from azure.core import exceptions as aex

    if isinstance(exc, (aex.ServiceRequestError, aex.ServiceResponseError, aex.IncompleteReadError, ConnectionError)):
        return True
    return isinstance(exc, aex.HttpResponseError) and (_status(exc) >= 500 or _status(exc) == 429)


class AzureStore(ObjectStore):
    """One Azure Blob container. ``overwrite=False`` refuses to replace an existing blob
    (the classic default)."""

    scheme = "azure"
    service = "Azure"
    container_word = "container"
    object_word = "blob"

    def __init__(
        self,
        container: str,
        connection_string_secret: str | None = None,
        connection_string: str | None = None,
        overwrite: bool = True,
    ) -> None:
        super().__init__(container)
        self.connection_string_secret = connection_string_secret
        self.connection_string = connection_string
        self.overwrite = overwrite
        self._resolved: tuple[str, str] | None = None

    def _connection(self) -> tuple[str, str]:
        if self._resolved is None:
            self._resolved = connection(self.connection_string_secret, self.connection_string)
        return self._resolved

    def _blob(self, key: str) -> Any:
        return service_client(self._connection()[0]).get_blob_client(self.container, key)

    def endpoint(self) -> str:
        """The account URL without its query: a SAS token lives there and must not reach
        cache keys or messages."""
        from urllib.parse import urlsplit

        return urlsplit(str(service_client(self._connection()[0]).url))._replace(query="", fragment="").geturl()

    def source(self) -> str:
        try:
            return describe_source(*self._connection())
        except StorageError:
            return "no connection string"

    def is_transient(self, exc: BaseException) -> bool:
        return is_transient(exc)

    # -- transport ------------------------------------------------------------------

    def get(self, key: str) -> tuple[bytes, str]:
        def fetch() -> tuple[bytes, str]:
            downloader = self._blob(key).download_blob()
            return downloader.readall(), str(downloader.properties.etag)

        return self._call(fetch, key, "download")

    def get_if_changed(self, key: str, validator: str) -> tuple[bytes, str] | None:
        from azure.core import MatchConditions

        def fetch() -> tuple[bytes, str] | None:
            try:
                downloader = self._blob(key).download_blob(etag=validator, match_condition=MatchConditions.IfModified)
            except Exception as exc:
                if _status(exc) == 304:
                    return None
                raise
            return downloader.readall(), str(downloader.properties.etag)

        return self._call(fetch, key, "download")

    def put(self, key: str, data: bytes) -> None:
        self._call(lambda: self._blob(key).upload_blob(data, overwrite=self.overwrite), key, "upload")

    def head(self, key: str) -> str | None:
        from azure.core import exceptions as aex

        def fetch() -> str | None:
            try:
                return str(self._blob(key).get_blob_properties().etag)
            except aex.ResourceNotFoundError as exc:
                if getattr(exc, "error_code", None) == "ContainerNotFound" or not self._container_exists():
                    raise self._no_container() from None
                return None

        return self._call(fetch, key, "check")

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        def fetch() -> list[ObjectInfo]:
            container = service_client(self._connection()[0]).get_container_client(self.container)
            blobs = container.list_blobs(name_starts_with=prefix or None)
            return sorted((ObjectInfo(b.name, int(b.size or 0), str(b.etag)) for b in blobs), key=lambda o: o.key)

        return self._call(fetch, prefix, "listing")

    # -- errors ---------------------------------------------------------------------

    def _container_exists(self) -> bool:
        return bool(service_client(self._connection()[0]).get_container_client(self.container).exists())

    def _no_container(self) -> BucketNotFoundError:
        return self.no_container(self.source())

    def translate(self, exc: BaseException, key: str, what: str) -> BaseException:
        from azure.core import exceptions as aex

        code = getattr(exc, "error_code", None)
        if isinstance(exc, aex.ResourceNotFoundError) or _status(exc) == 404:
            return self._no_container() if code == "ContainerNotFound" else self.no_object(key)
        if isinstance(exc, aex.ResourceExistsError) and code == "BlobAlreadyExists":
            return FlowStorageError(
                f"A blob already exists at {self.describe(key)} and overwrite=False; pass overwrite=True to replace it, "
                "or use another blob_name."
            )
        if isinstance(exc, aex.ClientAuthenticationError) or _status(exc) in (401, 403) or _is_identity_error(exc):
            advice = "Check the account key, SAS or the identity's role on the container."
            return self.refused(what, key, code or type(exc).__name__, self.source(), advice)
        if is_transient(exc):
            return self.unavailable(what, key, f"{type(exc).__name__}: {exc}", at_endpoint=False)
        return self.failed(what, key, f"{code or type(exc).__name__}: {exc}")


def _is_identity_error(exc: BaseException) -> bool:
    try:
        from azure.identity import CredentialUnavailableError
    except ImportError:
        return False
    return isinstance(exc, CredentialUnavailableError)
