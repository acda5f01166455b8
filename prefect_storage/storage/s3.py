"""``S3`` storage: flows as objects in an Amazon S3 (or S3-compatible) bucket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from prefect_storage.backends.aws import split_s3_options
from prefect_storage.backends.objects import ObjectStore
from prefect_storage.storage.base import require_mapping, require_text
from prefect_storage.storage.objects import ObjectStorage

if TYPE_CHECKING:
    from prefect_storage.results.s3 import S3Result


def _result(bucket: str, client_options: Mapping[str, Any] | None) -> S3Result:
    from prefect_storage.results.s3 import S3Result

    return S3Result(bucket=bucket, boto3_kwargs=client_options)


class S3(ObjectStorage):
    """Store flows in an S3 bucket, pickled or as scripts.

    Args:
        bucket: the bucket (``$NAME`` templates are rendered at use).
        key: the object key for every flow; default ``<slug(flow name)>/<slug(utc timestamp)>``.
        stored_as_script: store the flow's ``.py`` script instead of a pickle.
        local_script_path: the script ``build()`` uploads in script mode (default: the
            script the CLI is registering). Without it, the script must already be at ``key``.
        client_options: keyword arguments for the boto3 client (``endpoint_url``,
            ``region_name``, ``profile_name``...). Literal ``aws_*`` keys are used but
            never serialized or pickled; write ``"$AWS_SECRET"`` to have them looked up.
        upload_options: extra ``put_object`` arguments (``ServerSideEncryption``, ``ACL``...).

    Credentials: the ``AWS_CREDENTIALS`` secret, keys in ``client_options``, then boto3's
    default chain. Paired result: ``S3Result(bucket, boto3_kwargs=client_options)``.

    Example::

        flow.storage = S3(bucket="my-flows", client_options={"endpoint_url": "http://127.0.0.1:9000"})
    """

    _serialized_fields = ("bucket", "key", "stored_as_script", "client_options")
    _transient_attributes = ("_credential_options", "_secret_upload_options")
    _script_key_error = (
        "A `key` must be provided to show where flow `.py` file is stored in S3 or provide a "
        "`local_script_path` pointing to a local script that contains the flow."
    )

    def __init__(
        self,
        bucket: str,
        key: str | None = None,
        stored_as_script: bool = False,
        local_script_path: str | None = None,
        client_options: Mapping[str, Any] | None = None,
        upload_options: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.bucket = require_text(bucket, "bucket", "S3 storage")
        require_mapping(client_options, "client_options", "S3 storage")
        require_mapping(upload_options, "upload_options", "S3 storage")
        self.key = key
        # Literal credentials and upload secrets stay in memory for this process only.
        self.client_options, self._credential_options, self.upload_options, self._secret_upload_options = (
            split_s3_options(client_options, upload_options)
        )
        super().__init__(
            stored_as_script=stored_as_script,
            local_script_path=local_script_path,
            paired_result=lambda: _result(bucket, client_options),
            **kwargs,
        )

    def _downloaded(self, store: ObjectStore) -> None:
        meta = getattr(store, "last_object", None) or {}
        self.logger.info(
            "Flow successfully downloaded. ETag: %s, LastModified: %s, VersionId: %s",
            meta.get("ETag"),
            meta.get("LastModified"),
            meta.get("VersionId"),
        )

    def _store(self) -> ObjectStore:
        from prefect_storage.backends.s3 import S3Store

        return S3Store.from_options(
            self.bucket,
            self.client_options,
            getattr(self, "_credential_options", {}),
            self.upload_options,
            getattr(self, "_secret_upload_options", {}),
        )
