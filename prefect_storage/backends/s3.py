"""Amazon S3 (and S3-compatible services such as MinIO) as an :class:`ObjectStore`.

Clients come from :func:`prefect_storage.backends.aws.client` (the classic credential
order). botocore's own retries are turned off so that the retry policy lives in one
place (:mod:`prefect_storage.backends.retry`): 5xx answers, throttling and dropped
connections are retried; auth and not-found errors surface at once, translated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from prefect_storage.backends import aws
from prefect_storage.backends.objects import ObjectInfo, ObjectStore
from prefect_storage.exceptions import StorageError, with_sdk_error

# One attempt per botocore call (our retry wraps it); a pool large enough for concurrent builds.
CLIENT_CONFIG = {"retries": {"max_attempts": 1, "mode": "standard"}, "max_pool_connections": 16}

_AUTH_CODES = {
    "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
    "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem", "UnrecognizedClientException",
    "InvalidClientTokenId", "403", "401",
}
_THROTTLE_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestLimitExceeded", "TooManyRequests"}
_MISSING_KEY_CODES = {"NoSuchKey", "404", "NotFound"}


def error_code(exc: BaseException) -> tuple[str, int]:
    """``(code, http status)`` of a botocore ``ClientError``; ``("", 0)`` for anything else."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return "", 0
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return code, status


def _is_connection_error(exc: BaseException) -> bool:
    try:
        import botocore.exceptions as bex
        import urllib3.exceptions as uex
    except ImportError:  # pragma: no cover - boto3 is installed when this runs
        return False
    return isinstance(
        exc,
        (bex.EndpointConnectionError, bex.ConnectionClosedError, bex.ReadTimeoutError, bex.ConnectTimeoutError,
         bex.ResponseStreamingError, uex.ProtocolError, ConnectionError),
    )


def _is_credentials_error(exc: BaseException) -> bool:
    try:
        import botocore.exceptions as bex
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, (bex.NoCredentialsError, bex.PartialCredentialsError))


def is_transient(exc: BaseException) -> bool:
    """5xx, throttling and dropped connections: worth another try."""
    if isinstance(exc, StorageError):
        return False
    code, status = error_code(exc)
    return status >= 500 or code in _THROTTLE_CODES or _is_connection_error(exc)


class S3Store(ObjectStore):
    """One S3 bucket, reached with ``client_options`` (rendered) and written with
    ``upload_options`` (``put_object`` arguments such as ``ServerSideEncryption``)."""

    scheme = "s3"
    service = "S3"

    def __init__(
        self, bucket: str, client_options: Mapping[str, Any] | None = None, upload_options: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(bucket)
        self.client_options = dict(client_options or {})
        self.upload_options = dict(upload_options or {})

    @classmethod
    def from_options(
        cls,
        bucket: str,
        client_options: Mapping[str, Any] | None,
        credentials: Mapping[str, Any] | None = None,
        upload_options: Mapping[str, Any] | None = None,
        upload_secrets: Mapping[str, Any] | None = None,
    ) -> S3Store:
        """A store from the parts :func:`~prefect_storage.backends.aws.split_s3_options`
        made: templates in ``bucket`` and ``upload_options`` are rendered now, and the
        in-memory credentials and upload secrets are merged back in."""
        from prefect_storage.secrets import render

        options = {**(client_options or {}), **(credentials or {})}
        upload = {**render(dict(upload_options or {})), **(upload_secrets or {})}
        return cls(render(bucket), options, upload)

    @property
    def client(self) -> Any:
        return aws.client("s3", self.client_options, config=CLIENT_CONFIG)

    def endpoint(self) -> str:
        from prefect_storage.secrets import render

        return str(render(self.client_options.get("endpoint_url") or "aws"))

    def is_transient(self, exc: BaseException) -> bool:
        return is_transient(exc)

    # -- transport ------------------------------------------------------------------

    #: ``ETag``, ``LastModified`` and ``VersionId`` of the object the last get read (or
    #: found unchanged), for the classic "Flow successfully downloaded" log line
    last_object: dict[str, object] | None = None

    #: what this process last learnt of each object (a 304 may omit some headers)
    _known_objects: ClassVar[dict[str, dict[str, object]]] = {}

    def _remember(self, response: dict[str, object], key: str) -> None:
        self.last_object = {k: response.get(k) for k in ("ETag", "LastModified", "VersionId")}
        self._known_objects[self.cache_key(key)] = self.last_object

    def _remember_headers(self, exc: BaseException, key: str) -> None:
        headers = (getattr(exc, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPHeaders", {})
        seen = {
            "ETag": headers.get("etag"),
            "LastModified": headers.get("last-modified"),
            "VersionId": headers.get("x-amz-version-id"),
        }
        known = self._known_objects.get(self.cache_key(key), {})
        if known.get("ETag") in (None, seen["ETag"]):
            seen = {k: v if v is not None else known.get(k) for k, v in seen.items()}
        self.last_object = seen

    def get(self, key: str) -> tuple[bytes, str]:
        def fetch() -> tuple[bytes, str]:
            response = self.client.get_object(Bucket=self.container, Key=key)
            self._remember(response, key)
            return response["Body"].read(), response.get("ETag", "")

        return self._call(fetch, key, "download")

    def get_if_changed(self, key: str, validator: str) -> tuple[bytes, str] | None:
        def fetch() -> tuple[bytes, str] | None:
            try:
                response = self.client.get_object(Bucket=self.container, Key=key, IfNoneMatch=validator)
            except Exception as exc:
                code, status = error_code(exc)
                if code == "304" or status == 304:
                    self._remember_headers(exc, key)
                    return None
                raise
            self._remember(response, key)
            return response["Body"].read(), response.get("ETag", "")

        return self._call(fetch, key, "download")

    def put(self, key: str, data: bytes) -> None:
        self._call(lambda: self.client.put_object(Bucket=self.container, Key=key, Body=data, **self.upload_options), key, "upload")

    def head(self, key: str) -> str | None:
        def fetch() -> str | None:
            try:
                return str(self.client.head_object(Bucket=self.container, Key=key).get("ETag", ""))
            except Exception as exc:
                code, status = error_code(exc)
                if (code in _MISSING_KEY_CODES or status == 404) and self._bucket_exists():
                    return None
                raise

        return self._call(fetch, key, "check")

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        def fetch() -> list[ObjectInfo]:
            found = []
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.container, Prefix=prefix):
                for item in page.get("Contents", []):
                    found.append(ObjectInfo(item["Key"], int(item.get("Size", 0)), str(item.get("ETag", ""))))
            return sorted(found, key=lambda o: o.key)

        return self._call(fetch, prefix, "listing")

    # -- errors ---------------------------------------------------------------------

    def _bucket_exists(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.container)
        except Exception as exc:
            code, status = error_code(exc)
            if code in {"404", "NoSuchBucket", "NotFound"} or status == 404:
                return False
            raise
        return True


    def translate(self, exc: BaseException, key: str, what: str) -> BaseException:
        """A typed, actionable error for a failed S3 call (never holding a secret).

        When boto3 raised a ``ClientError``, the typed error is one too (classic S3
        storage let it through), with the same ``response`` and ``operation_name``.
        """
        error = self._typed_error(exc, key, what)
        response = getattr(exc, "response", None)
        if isinstance(error, StorageError) and isinstance(response, dict) and hasattr(exc, "operation_name"):
            return with_sdk_error(
                error, "botocore.exceptions", "ClientError", response=response, operation_name=getattr(exc, "operation_name", what)
            )
        return error

    def _typed_error(self, exc: BaseException, key: str, what: str) -> BaseException:
        code, status = error_code(exc)
        source = aws.credential_source(self.client_options)
        if code == "NoSuchBucket" or (status == 404 and code not in {"NoSuchKey"} and not self._safe_bucket_exists()):
            return self.no_container(source)
        if code in _MISSING_KEY_CODES or status == 404:
            return self.no_object(key)
        if code in _AUTH_CODES or status in (401, 403) or _is_credentials_error(exc):
            advice = "Check the keys, the profile or the role's permissions on the bucket."
            return self.refused(what, key, str(code or status or type(exc).__name__), source, advice)
        if _is_connection_error(exc) or status >= 500 or code in _THROTTLE_CODES:
            return self.unavailable(what, key, str(exc))
        return self.failed(what, key, f"{code or type(exc).__name__}: {exc}")

    def _safe_bucket_exists(self) -> bool:
        try:
            return self._bucket_exists()
        except Exception:
            return True
