"""The AWS Secrets Manager secret provider against moto's Secrets Manager."""

from __future__ import annotations

import json
import uuid

import pytest

from prefect_storage import secrets
from prefect_storage.backends.aws_secrets import AWSSecretsManagerProvider
from prefect_storage.exceptions import SecretNotFoundError
from prefect_storage.secrets import Secret, find, render, resolve
from prefect_storage.storage import S3, Storage
from tests.conformance.flows import FLOW_NAME, final_value, make_flow


@pytest.fixture
def secretsmanager(moto_endpoint: str, aws_env: None, monkeypatch: pytest.MonkeyPatch):
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_endpoint)
    monkeypatch.setenv("PREFECT_STORAGE_SECRET_PROVIDERS", "aws-secrets-manager")
    monkeypatch.setattr(secrets, "_provider_cache", {})  # a provider made for this test's endpoint
    return boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name="us-east-1")


def test_provider_returns_value_or_none(secretsmanager) -> None:
    name = f"TOKEN_{uuid.uuid4().hex[:8]}"
    secretsmanager.create_secret(Name=name, SecretString="tok-123456")
    provider = AWSSecretsManagerProvider()
    assert "AWS Secrets Manager" in provider.description
    assert provider.get(name) == "tok-123456"
    assert provider.get(name + "_MISSING") is None


def test_binary_secret_is_decoded(secretsmanager) -> None:
    name = f"BIN_{uuid.uuid4().hex[:8]}"
    secretsmanager.create_secret(Name=name, SecretBinary=b"binary-value")
    assert AWSSecretsManagerProvider().get(name) == "binary-value"


def test_prefix_is_prepended(secretsmanager, monkeypatch: pytest.MonkeyPatch) -> None:
    secretsmanager.create_secret(Name="prod/DB_URL", SecretString="postgres://db")
    monkeypatch.setenv("PREFECT_STORAGE_AWS_SECRETS_PREFIX", "prod/")
    assert AWSSecretsManagerProvider().get("DB_URL") == "postgres://db"


def test_templates_and_secret_get_resolve_through_the_provider(secretsmanager) -> None:
    name = f"CONFIG_{uuid.uuid4().hex[:8]}"
    secretsmanager.create_secret(Name=name, SecretString=json.dumps({"user": "etl", "port": 5432}))
    plain = f"PLAIN_{uuid.uuid4().hex[:8]}"
    secretsmanager.create_secret(Name=plain, SecretString="value-from-aws")
    assert Secret(name).get() == {"user": "etl", "port": 5432}
    assert render(f"x-${{{plain}}}-y") == "x-value-from-aws-y"
    assert find(plain + "_NOPE") is None
    with pytest.raises(SecretNotFoundError, match="AWS Secrets Manager"):
        resolve(plain + "_NOPE")


def test_storage_bucket_from_secrets_manager(secretsmanager, s3_bucket: str, moto_endpoint: str) -> None:
    name = f"FLOWS_BUCKET_{uuid.uuid4().hex[:8]}"
    secretsmanager.create_secret(Name=name, SecretString=s3_bucket)
    storage = S3("${" + name + "}", client_options={"endpoint_url": moto_endpoint, "region_name": "us-east-1"})
    storage.add_flow(make_flow(value=6))
    storage.build()
    assert s3_bucket not in json.dumps(storage.serialize())
    assert final_value(Storage.deserialize(storage.serialize()).get_flow(FLOW_NAME)) == 12


def test_answers_are_cached_for_the_ttl(secretsmanager, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"ROTATING_{uuid.uuid4().hex[:8]}"
    secretsmanager.create_secret(Name=name, SecretString="first-value")
    cached = AWSSecretsManagerProvider()
    assert cached.get(name) == "first-value"
    secretsmanager.put_secret_value(SecretId=name, SecretString="second-value")
    assert cached.get(name) == "first-value"  # within the TTL: no new request
    monkeypatch.setenv("PREFECT_STORAGE_AWS_SECRETS_TTL", "0")
    assert AWSSecretsManagerProvider().get(name) == "second-value"
