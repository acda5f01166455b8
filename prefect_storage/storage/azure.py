"""``Azure`` storage: flows as blobs in an Azure Blob Storage container."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect_storage.backends.objects import ObjectStore
from prefect_storage.exceptions import StorageConfigError
from prefect_storage.secrets import render
from prefect_storage.storage.base import require_text
from prefect_storage.storage.objects import ObjectStorage

if TYPE_CHECKING:
    from prefect_storage.results.azure import AzureResult


def _result(container: str, connection_string_secret: str | None) -> AzureResult:
    from prefect_storage.results.azure import AzureResult

    return AzureResult(container=container, connection_string_secret=connection_string_secret)


class Azure(ObjectStorage):
    """Store flows in an Azure Blob Storage container, pickled or as scripts.

    Args:
        container: the container (``$NAME`` templates are rendered at use).
        connection_string_secret: name of the secret holding the connection string (or an
            account URL, used with ``DefaultAzureCredential``); default: the secret or
            environment variable ``AZURE_STORAGE_CONNECTION_STRING``.
        blob_name: the blob for every flow; default ``<slug(flow name)>/<slug(utc timestamp)>``.
        overwrite: replace an existing blob on upload (classic default: refuse).
        stored_as_script: store the flow's ``.py`` script instead of a pickle.
        local_script_path: (new; by keyword, as the classic signature ends at
            ``stored_as_script``) the script ``build()`` uploads in script mode. Without
            it, as in the classic class, nothing is uploaded and the script must already
            be at ``blob_name``.

    The connection string is looked up each time it is needed and never kept on the
    object, serialized or pickled. Paired result: ``AzureResult(container, connection_string_secret=...)``.

    Example::

        flow.storage = Azure(container="flows", connection_string_secret="AZURE_FLOWS_CONNECTION")
    """

    _serialized_fields = ("container", "connection_string_secret", "blob_name", "stored_as_script")
    _script_key_error = "A `blob_name` must be provided to show where flow `.py` file is stored in Azure."

    def __init__(
        self,
        container: str,
        connection_string_secret: str | None = None,
        blob_name: str | None = None,
        overwrite: bool = False,
        stored_as_script: bool = False,
        **kwargs: Any,
    ) -> None:
        self.container = require_text(container, "container", "Azure storage")
        self.connection_string_secret = connection_string_secret
        self.blob_name = blob_name
        self.overwrite = overwrite
        super().__init__(
            stored_as_script=stored_as_script, paired_result=lambda: _result(container, connection_string_secret), **kwargs
        )

    @property
    def connection_string(self) -> str | None:
        """The connection string, resolved now from ``connection_string_secret`` (else
        ``AZURE_STORAGE_CONNECTION_STRING``), as the classic property did. Never stored on
        the object, so it is not serialized or pickled; ``None`` when nothing provides it."""
        from prefect_storage.backends.azure import connection

        try:
            return connection(self.connection_string_secret)[0]
        except StorageConfigError:
            return None

    @property
    def _key_setting(self) -> str | None:
        return self.blob_name

    def _store(self) -> ObjectStore:
        from prefect_storage.backends.azure import AzureStore

        # A script upload replaces the published script by design; pickles follow `overwrite`.
        overwrite = self.overwrite or self.stored_as_script
        return AzureStore(render(self.container), self.connection_string_secret, overwrite=overwrite)
