"""Findings of the secret-handling audit, each pinned by a test: redaction of the
forms a secret takes, cache files, results, URLs in messages and argv."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path

import pytest

from prefect_storage.backends.cache import PayloadCache
from prefect_storage.exceptions import StorageConfigError, StorageError
from prefect_storage.log import get_logger
from prefect_storage.results import SecretResult
from prefect_storage.secrets import redact, remember_secret


def test_json_secret_leaves_are_redacted_too() -> None:
    remember_secret(json.dumps({"ACCESS_KEY": "AKIAEXAMPLE1", "SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG"}))
    text = str({"key": "AKIAEXAMPLE1", "secret": "wJalrXUtnFEMI/K7MDENG"})
    assert "AKIAEXAMPLE1" not in redact(text) and "wJalrXUtnFEMI" not in redact(text)


def test_url_credentials_and_query_are_redacted_in_any_rewriting() -> None:
    remember_secret("https://acct.blob.core.windows.net?sv=2024-01-01&sig=SASSIGSECRET1234")
    rewritten = "https://acct.blob.core.windows.net/?sv=2024-01-01&sig=SASSIGSECRET1234"  # what the SDK prints
    assert "SASSIGSECRET1234" not in redact(f"container missing at {rewritten}")
    remember_secret("https://TOKASUSER98765@git.example.com/org/repo.git")  # token as user name
    assert "TOKASUSER98765" not in redact("cloning https://TOKASUSER98765@git.example.com/...")


def test_escaped_forms_are_redacted() -> None:
    remember_secret('pa"ss\\word-77')
    assert "word-77" not in redact(json.dumps({"v": 'pa"ss\\word-77'}))
    assert "word-77" not in redact(repr('pa"ss\\word-77'))


def test_cache_files_hold_no_key_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_CACHE_DIR", str(tmp_path))
    key = "https://acct.blob.core.windows.net/?sig=SIGINKEY999|azure://flows/f"
    PayloadCache("azure").put(key, '"etag"', b"payload")
    (entry,) = (tmp_path / "azure").iterdir()
    assert b"SIGINKEY999" not in entry.read_bytes()
    assert PayloadCache("azure").get(key) == ('"etag"', b"payload")


def test_secret_result_repr_shows_the_name_never_the_value(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__DBCREDS", '{"user": "bob", "password": "DictPw777777"}')
    result = SecretResult(location="DBCREDS").read("DBCREDS")
    assert result.value["password"] == "DictPw777777"
    with caplog.at_level(logging.INFO, logger="prefect_storage"):
        get_logger("test").info("%r %s", result, result.value)
    assert "DictPw777777" not in repr(result) + caplog.text + pickle.dumps(result).decode("latin-1")


def test_result_copy_keeps_in_memory_credentials() -> None:
    from prefect_storage.results import S3Result

    result = S3Result(bucket="b", boto3_kwargs={"aws_access_key_id": "AKIAINMEMORY1", "aws_secret_access_key": "x" * 20})
    assert result.copy()._credential_options == result._credential_options  # task targets use copies
    assert b"AKIAINMEMORY1" not in pickle.dumps(result)


def test_s3_sse_customer_key_never_pickled_or_serialized() -> None:
    from prefect_storage.storage import S3

    storage = S3(bucket="b", upload_options={"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "K" * 32})
    assert "K" * 32 not in pickle.dumps(storage).decode("latin-1") + json.dumps(storage.serialize())
    assert storage._store().upload_options["SSECustomerKey"] == "K" * 32  # still used in this process
    templated = S3(bucket="b", upload_options={"SSECustomerKey": "${SSE_KEY}"})
    assert templated.upload_options == {"SSECustomerKey": "${SSE_KEY}"}  # a template is kept, rendered at use


def test_git_repo_with_a_literal_token_is_refused() -> None:
    from prefect_storage.storage import Git

    with pytest.raises(StorageConfigError, match="git_token_secret_name"):
        Git(flow_path="f.py", repo="https://user:ghp_literaltoken123@github.com/org/r.git")
    Git(flow_path="f.py", repo="https://user:${GIT_TOKEN}@github.com/org/r.git")  # templated: fine


def test_registry_url_password_is_hidden_in_messages() -> None:
    from prefect_storage.registry.engine import create_engine, public_url

    assert public_url("postgresql://alice:S3cretRegPw@db:5432/x") == "postgresql://alice:***@db:5432/x"
    with pytest.raises(StorageError) as info:
        create_engine("postgres ql://alice:S3cretRegPw@h/db")
    assert "S3cretRegPw" not in str(info.value)


def test_cli_unreachable_registry_message_hides_the_password() -> None:
    from click.testing import CliRunner

    from prefect_storage.cli.app import cli

    result = CliRunner().invoke(cli, ["--registry", "postgresql://alice:S3cretRegPw@127.0.0.1:1/db", "flows", "ls"])
    assert result.exit_code == 4 and "S3cretRegPw" not in result.output and "alice:***@" in result.output


def test_urllib3_retry_logs_are_redacted(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.backends.http import session
    from prefect_storage.secrets import render

    monkeypatch.setenv("FLOWS_TOKEN", "TOKVALUE123456")
    url = render("http://127.0.0.1:9/x?token=${FLOWS_TOKEN}")  # port 9: nothing listens, so urllib3 retries
    with caplog.at_level(logging.DEBUG), pytest.raises(Exception):  # noqa: B017 - any connection error
        session(total_retries=1, backoff=0).get(url, timeout=1)
    assert "token=" in caplog.text and "TOKVALUE123456" not in caplog.text
