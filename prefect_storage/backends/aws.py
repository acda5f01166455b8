"""boto3 clients for every AWS-backed class (S3, S3Result, CodeCommit, Secrets Manager).

Credentials are looked up when a client is made, in the classic order:

1. the secret ``AWS_CREDENTIALS`` (JSON with ``ACCESS_KEY``, ``SECRET_ACCESS_KEY``
   and optionally ``SESSION_TOKEN``), through the secret chain;
2. keys in ``client_options`` (``aws_access_key_id``...), templates rendered;
3. boto3's default chain (environment, shared config, instance role...).

Clients are cached per process by (service, options, credentials), because making
one costs tens of milliseconds and they are thread-safe. Nothing here is kept on a
storage object, so no credential reaches ``serialize()``, ``repr()`` or a pickle.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from prefect_storage.backends.clients import ClientCache
from prefect_storage.backends.optional import require
from prefect_storage.exceptions import StorageConfigError

CREDENTIAL_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
#: ``put_object`` arguments that are keys: kept in memory only, like credentials
SECRET_UPLOAD_KEYS = ("SSECustomerKey",)


def split_secret(options: Mapping[str, Any] | None, secret_keys: tuple[str, ...]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """``(public, secret)``: ``options`` without literal values of ``secret_keys`` (templates
    such as ``$SSE_KEY`` stay public: they are rendered at use), and those literal values."""
    if options is None:
        return None, {}
    secret = {k: v for k, v in options.items() if k in secret_keys and not (isinstance(v, str) and v.startswith("$"))}
    return {k: v for k, v in options.items() if k not in secret}, secret

_clients: ClientCache[tuple[str, str], Any] = ClientCache()


def _classic_credentials() -> dict[str, str] | None:
    from prefect_storage.secrets import find

    raw = find("AWS_CREDENTIALS")
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        creds = {"aws_access_key_id": data["ACCESS_KEY"], "aws_secret_access_key": data["SECRET_ACCESS_KEY"]}
    except (ValueError, KeyError, TypeError):
        raise StorageConfigError(
            "The secret AWS_CREDENTIALS must be JSON with ACCESS_KEY and SECRET_ACCESS_KEY (and optionally SESSION_TOKEN)."
        ) from None
    if data.get("SESSION_TOKEN"):
        creds["aws_session_token"] = data["SESSION_TOKEN"]
    return creds


def client_kwargs(client_options: Mapping[str, Any] | None) -> tuple[dict[str, Any], str]:
    """The keyword arguments for ``session.client`` and a description of the credential
    source used (safe to show: it never holds a secret value)."""
    from prefect_storage.secrets import render

    options = render(dict(client_options or {}))
    classic = _classic_credentials()
    if classic is not None:
        return {**options, **classic}, "the AWS_CREDENTIALS secret"
    if any(options.get(k) for k in CREDENTIAL_KEYS):
        return options, "keys in client_options"
    return options, "boto3's default credential chain (environment, shared config, instance role)"


def client(service: str, client_options: Mapping[str, Any] | None = None, config: Mapping[str, Any] | None = None) -> Any:
    """A (cached) boto3 client for ``service`` configured as described in this module.

    ``config`` holds ``botocore.config.Config`` arguments chosen by the caller (retry
    policy, connection pool size), never by the user's serialized options.
    """
    kwargs, _ = client_kwargs(client_options)
    key = (service, json.dumps([kwargs, config], sort_keys=True, default=str))

    def make() -> Any:
        boto3 = require("boto3", extra="aws", purpose=f"AWS {service}")
        options = dict(kwargs)
        if config:
            import botocore.config

            options["config"] = botocore.config.Config(**config)
        # A session per client: boto3 sessions are not thread-safe, clients are.
        return boto3.session.Session().client(service, **options)

    return _clients.get(key, make)


def credential_source(client_options: Mapping[str, Any] | None = None) -> str:
    """Which credential source :func:`client` would use, for error messages."""
    return client_kwargs(client_options)[1]


def public_options(client_options: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``client_options`` without literal credentials (templates such as ``$AWS_KEY`` are
    kept): what may be serialized. The classic class stored them verbatim."""
    if client_options is None:
        return None
    return {
        k: v for k, v in client_options.items() if k not in CREDENTIAL_KEYS or (isinstance(v, str) and v.startswith("$"))
    }


def split_s3_options(
    client_options: Mapping[str, Any] | None, upload_options: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
    """``(public client options, literal credentials, public upload options, literal
    upload secrets)``: what an S3 storage or result may serialize, and what it keeps in
    memory only. Used by both, so they split options the same way."""
    public_client = public_options(client_options)
    credentials = {
        k: v for k, v in (client_options or {}).items() if k in CREDENTIAL_KEYS and k not in (public_client or {})
    }
    public_upload, secret_upload = split_secret(dict(upload_options or {}) or None, SECRET_UPLOAD_KEYS)
    return public_client, credentials, public_upload, secret_upload
