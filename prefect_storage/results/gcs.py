"""``GCSResult``: task outputs as blobs in a Google Cloud Storage bucket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect_storage.backends.objects import ObjectStore
from prefect_storage.results.base import Result
from prefect_storage.results.objects import ObjectResult
from prefect_storage.secrets import render


class GCSResult(ObjectResult):
    """Results stored in ``bucket`` under their formatted location (credentials as for
    :class:`~prefect_storage.storage.GCS`).

    Args:
        bucket: the bucket (``$NAME`` templates rendered at use).
        project: the Google Cloud project (default: from the credentials).
    """

    _serialized_fields = ("bucket",)

    def __init__(self, bucket: str | None = None, project: str | None = None, **kwargs: Any) -> None:
        self.bucket = bucket
        self.project = project
        super().__init__(**kwargs)

    def _store(self) -> ObjectStore:
        from prefect_storage.backends.gcs import GCSStore
        from prefect_storage.exceptions import StorageConfigError

        if not self.bucket:
            raise StorageConfigError("GCSResult needs a bucket: GCSResult(bucket='my-results').")
        return GCSStore(render(self.bucket), render(self.project) if self.project else None)

    @classmethod
    def _from_serialized(cls, data: Mapping[str, Any]) -> Result:
        obj = cls(bucket=data.get("bucket"))
        obj.location = data.get("location")
        return obj
