"""``S3Result``: task outputs as objects in an S3 bucket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect_storage.backends.aws import split_s3_options
from prefect_storage.backends.objects import ObjectStore
from prefect_storage.results.base import Result
from prefect_storage.results.objects import ObjectResult


class S3Result(ObjectResult):
    """Results stored in ``bucket`` under their formatted location.

    Args:
        bucket: the bucket (``$NAME`` templates rendered at use).
        boto3_kwargs: boto3 client options (as ``S3(client_options=...)``); literal
            ``aws_*`` keys are used in this process but never pickled or serialized.
        upload_options: extra ``put_object`` arguments.
    """

    _serialized_fields = ("bucket", "boto3_kwargs")
    _transient_attributes = ("_credential_options", "_secret_upload_options")

    def __init__(
        self,
        bucket: str,
        boto3_kwargs: Mapping[str, Any] | None = None,
        upload_options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.bucket = bucket
        public, self._credential_options, public_upload, self._secret_upload_options = split_s3_options(
            boto3_kwargs, upload_options
        )
        self.boto3_kwargs = public or {}
        self.upload_options = public_upload or {}
        super().__init__(**kwargs)

    def _store(self) -> ObjectStore:
        from prefect_storage.backends.s3 import S3Store

        return S3Store.from_options(
            self.bucket,
            self.boto3_kwargs,
            getattr(self, "_credential_options", {}),
            self.upload_options,
            getattr(self, "_secret_upload_options", {}),
        )

    @classmethod
    def _from_serialized(cls, data: Mapping[str, Any]) -> Result:
        obj = cls(bucket=data.get("bucket") or "", boto3_kwargs=data.get("boto3_kwargs"))
        obj.location = data.get("location")
        return obj
