"""``AzureResult``: task outputs as blobs in an Azure Blob Storage container."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from prefect_storage.backends.objects import ObjectStore
from prefect_storage.results.base import Result
from prefect_storage.results.objects import ObjectResult
from prefect_storage.secrets import render


class AzureResult(ObjectResult):
    """Results stored in ``container`` under their formatted location.

    Args:
        container: the container (``$NAME`` templates rendered at use).
        connection_string: a connection string (or ``$NAME`` template). A literal value
            is used in this process only and never pickled: unlike the classic class,
            nothing is captured at construction.
        connection_string_secret: the secret holding the connection string. With
            neither, ``AZURE_STORAGE_CONNECTION_STRING`` is looked up at use.
    """

    _serialized_fields = ("container", "connection_string_secret")
    _transient_attributes = ("_connection_string",)

    def __init__(
        self,
        container: str,
        connection_string: str | None = None,
        connection_string_secret: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.container = container
        self.connection_string_secret = connection_string_secret
        is_template = bool(connection_string) and str(connection_string).startswith("$")
        # A ``$NAME`` template is kept (and pickled); a literal value is not.
        self._connection_string_template = connection_string if is_template else None
        self._connection_string = None if is_template else connection_string
        if self._connection_string:
            from prefect_storage.backends.azure import remember_connection_secrets
            from prefect_storage.secrets import remember_secret

            remember_secret(self._connection_string)
            remember_connection_secrets(self._connection_string)
        super().__init__(**kwargs)

    @property
    def connection_string(self) -> str | None:
        """The connection string given (a literal lives in this process's memory only; a
        ``$NAME`` template is returned as given), else ``AZURE_STORAGE_CONNECTION_STRING``
        (classic attribute)."""
        given = getattr(self, "_connection_string", None) or getattr(self, "_connection_string_template", None)
        return given or os.environ.get("AZURE_STORAGE_CONNECTION_STRING")

    @connection_string.setter
    def connection_string(self, value: str | None) -> None:
        is_template = bool(value) and str(value).startswith("$")
        self._connection_string_template = value if is_template else None
        self._connection_string = None if is_template else value

    def _store(self) -> ObjectStore:
        from prefect_storage.backends.azure import AzureStore

        literal = getattr(self, "_connection_string", None) or getattr(self, "_connection_string_template", None)
        return AzureStore(render(self.container), self.connection_string_secret, connection_string=literal, overwrite=True)

    @classmethod
    def _from_serialized(cls, data: Mapping[str, Any]) -> Result:
        obj = cls(container=data.get("container") or "", connection_string_secret=data.get("connection_string_secret"))
        obj.location = data.get("location")
        return obj
