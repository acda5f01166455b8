"""AWS Secrets Manager as a secret provider for the secret chain.

Enable it with ``PREFECT_STORAGE_SECRET_PROVIDERS=aws-secrets-manager``; then a
``${NAME}`` template or ``Secret("NAME").get()`` that finds no value in the
environment, the run's secrets or the secrets file asks Secrets Manager for the
secret called ``NAME`` (``PREFECT_STORAGE_AWS_SECRETS_PREFIX`` is prepended, e.g.
``prod/``).

Answers (values and "no such secret") are kept in memory for
``PREFECT_STORAGE_AWS_SECRETS_TTL`` seconds (default 60, ``0`` disables), because the
chain is walked for every lookup: storages ask for ``AWS_CREDENTIALS`` each time they
make a client.

The client uses boto3's default chain (environment, shared config, instance role)
and boto3's endpoint settings (``AWS_ENDPOINT_URL_SECRETS_MANAGER`` or
``AWS_ENDPOINT_URL`` for a local emulator): it cannot take its own credentials from
the chain it serves.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from prefect_storage import config
from prefect_storage.backends.optional import require
from prefect_storage.exceptions import BackendUnavailableError, StorageAuthError

_NOT_FOUND = {"ResourceNotFoundException"}
_AUTH = {"AccessDeniedException", "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"}


class AWSSecretsManagerProvider:
    """Looks secrets up in AWS Secrets Manager by name; ``None`` when there is no such secret."""

    def __init__(self, prefix: str | None = None, region_name: str | None = None) -> None:
        self.prefix = prefix if prefix is not None else config.aws_secrets_prefix()
        self.region_name = region_name
        self.ttl = config.aws_secrets_ttl()
        self._client: Any = None
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[float, str | None]] = {}

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                boto3 = require("boto3", extra="aws", purpose="the AWS Secrets Manager secret provider")
                self._client = boto3.session.Session().client("secretsmanager", region_name=self.region_name)
            return self._client

    @property
    def description(self) -> str:
        region = self.region_name or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "default region"
        prefix = f", names prefixed {self.prefix!r}" if self.prefix else ""
        return f"AWS Secrets Manager ({region}{prefix})"

    def get(self, name: str) -> str | None:
        """The secret's string value (binary values decoded as UTF-8), or ``None``."""
        cached = self._answers.get(name)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        value = self._fetch(name)
        if self.ttl > 0:
            self._answers[name] = (time.monotonic(), value)
        return value

    def _fetch(self, name: str) -> str | None:
        from prefect_storage.backends.retry import call_with_retries
        from prefect_storage.backends.s3 import error_code, is_transient

        secret_id = self.prefix + name
        try:
            response = call_with_retries(
                lambda: self.client.get_secret_value(SecretId=secret_id), is_transient, f"Secrets Manager lookup of {secret_id}"
            )
        except Exception as exc:
            code, status = error_code(exc)
            if code in _NOT_FOUND:
                return None
            if code in _AUTH or status in (401, 403):
                raise StorageAuthError(
                    f"AWS Secrets Manager refused to read {secret_id!r} ({code}); check the credentials of boto3's "
                    "default chain and the secretsmanager:GetSecretValue permission."
                ) from None
            if is_transient(exc):
                raise BackendUnavailableError(f"AWS Secrets Manager could not be reached for {secret_id!r}: {exc}") from None
            raise
        if response.get("SecretString") is not None:
            return str(response["SecretString"])
        binary = response.get("SecretBinary")
        return binary.decode() if isinstance(binary, (bytes, bytearray)) else None
