"""Blocks: save/load, encryption at rest, keys (missing, wrong, rotated), masking, redaction,
the secret-chain provider and the ``block`` CLI. The registry is a SQLite file in the
test's own home folder."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from prefect_storage.blocks import (
    AwsCredentials,
    Block,
    GitHubCredentials,
    GitLabCredentials,
    S3Bucket,
    Secret,
    String,
)
from prefect_storage.blocks.system import JSON
from prefect_storage.exceptions import (
    BlockEncryptionKeyError,
    BlockNotFoundError,
    BlockNotSavedError,
    BlockValidationError,
)


def _rows(home: Path) -> list[str]:
    with sqlite3.connect(home / "prefect_storage.db") as conn:
        return [row[0] for row in conn.execute("select data from block_documents")]


def test_secret_round_trip_encrypted_at_rest_and_never_printed(_isolated_home: Path) -> None:
    Secret(value="sup3r-s3cret-value").save("my-token", overwrite=True)
    loaded = Secret.load("my-token")
    assert loaded.get() == "sup3r-s3cret-value"
    assert "sup3r" not in repr(loaded) and "sup3r" not in str(loaded.value)
    assert loaded.get_block_placeholder() == "prefect.blocks.secret.my-token"
    assert all("sup3r" not in row for row in _rows(_isolated_home))
    key = _isolated_home / "blocks.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_json_secret_string_and_json_blocks() -> None:
    Secret(value={"user": "u", "password": "p4ssword"}).save("creds")
    assert Secret.load("creds").get() == {"user": "u", "password": "p4ssword"}
    String(value="hello").save("greeting")
    assert String.load("greeting").value == "hello"
    JSON(value={"a": [1, 2]}).save("cfg")
    assert JSON.load("cfg").value == {"a": [1, 2]}
    assert Block.load("string/greeting").value == "hello"


def test_save_overwrite_names_and_fields() -> None:
    Secret(value="one").save("dup")
    with pytest.raises(BlockValidationError, match="already exists"):
        Secret(value="two").save("dup")
    Secret(value="two").save("dup", overwrite=True)
    assert Secret.load("dup").get() == "two"
    with pytest.raises(BlockValidationError, match="not valid"):
        Secret(value="x").save("Not Valid")
    with pytest.raises(BlockValidationError, match="no field"):
        Secret(valu="x")
    with pytest.raises(BlockValidationError, match="needs the field"):
        Secret()
    with pytest.raises(BlockNotFoundError, match="missing"):
        Secret.load("missing")
    with pytest.raises(BlockNotSavedError):
        Secret(value="x").get_block_placeholder()
    Secret.delete("dup")
    with pytest.raises(BlockNotFoundError):
        Secret.load("dup")


def test_nested_blocks_by_reference_and_inline() -> None:
    AwsCredentials(aws_access_key_id="AKIA1", aws_secret_access_key="s3cr3t-key-1").save("prod")
    S3Bucket(bucket_name="code", credentials=AwsCredentials.load("prod"), bucket_folder="f").save("by-ref")
    S3Bucket(bucket="code", credentials=AwsCredentials(aws_secret_access_key="inline-s3cr3t"), folder="g").save("inline")
    by_ref = S3Bucket.load("by-ref")
    assert by_ref.credentials.aws_secret_access_key.get_secret_value() == "s3cr3t-key-1"
    assert by_ref.credentials._block_document_name == "prod"
    inline = S3Bucket.load("inline")
    assert inline.bucket_folder == "g"
    assert inline.credentials.fsspec_settings() == {"secret": "inline-s3cr3t"}
    assert by_ref.masked()["credentials"] == "{{ prefect.blocks.aws-credentials.prod }}"


def test_missing_wrong_and_malformed_keys(_isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Secret(value="protected-value").save("guarded")
    key = _isolated_home / "blocks.key"
    saved_key = key.read_bytes()
    key.unlink()
    with pytest.raises(BlockEncryptionKeyError, match="No block encryption key"):
        Secret.load("guarded")
    from cryptography.fernet import Fernet

    monkeypatch.setenv("PREFECT_STORAGE_BLOCKS_KEY", Fernet.generate_key().decode())
    with pytest.raises(BlockEncryptionKeyError, match="wrong or lost key") as info:
        Secret.load("guarded")
    assert "protected-value" not in str(info.value)
    monkeypatch.setenv("PREFECT_STORAGE_BLOCKS_KEY", "not-a-key")
    with pytest.raises(BlockEncryptionKeyError, match="not a valid Fernet key"):
        Secret.load("guarded")
    monkeypatch.setenv("PREFECT_STORAGE_BLOCKS_KEY", saved_key.decode())
    assert Secret.load("guarded").get() == "protected-value"
    monkeypatch.delenv("PREFECT_STORAGE_BLOCKS_KEY")
    key.write_bytes(saved_key)
    key.chmod(0o644)
    with pytest.raises(BlockEncryptionKeyError, match="chmod 600"):
        Secret.load("guarded")


def test_rotation_with_a_key_file(_isolated_home: Path) -> None:
    from prefect_storage.blocks.rotation import rotate_key

    Secret(value="rotate-me-please").save("r1")
    AwsCredentials(aws_secret_access_key="another-secret").save("r2")
    before = _rows(_isolated_home)
    count, key_id = rotate_key()
    assert count == 2
    assert _rows(_isolated_home) != before
    assert all(f'"key_id": "{key_id}"' in row for row in _rows(_isolated_home) if "$encrypted" in row)
    assert Secret.load("r1").get() == "rotate-me-please"
    assert (_isolated_home / "blocks.key.previous").exists()


def test_rotation_with_environment_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.fernet import Fernet

    from prefect_storage.blocks.rotation import rotate_key

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("PREFECT_STORAGE_BLOCKS_KEY", old)
    Secret(value="env-keyed-secret").save("e1")
    monkeypatch.setenv("PREFECT_STORAGE_BLOCKS_KEY", new)
    monkeypatch.setenv("PREFECT_STORAGE_BLOCKS_OLD_KEYS", old)
    assert Secret.load("e1").get() == "env-keyed-secret"  # the old key still decrypts
    rotate_key()
    monkeypatch.delenv("PREFECT_STORAGE_BLOCKS_OLD_KEYS")
    assert Secret.load("e1").get() == "env-keyed-secret"  # now under the new key alone


def test_loaded_secrets_are_redacted_from_logs(caplog: pytest.LogCaptureFixture) -> None:
    from prefect_storage.secrets import get_logger, redact

    Secret(value="log-leak-candidate-42").save("leaky")
    value = Secret.load("leaky").get()
    assert redact(f"token={value}") == "token=***"
    caplog.set_level(logging.INFO, logger="prefect_storage")
    get_logger("test").info("using %s", value)
    assert "log-leak-candidate-42" not in caplog.text


def test_secret_blocks_answer_dollar_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect_storage.secrets import render

    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    Secret(value="from-a-block-123").save("github-token")
    assert render("token: ${GITHUB_TOKEN}") == "token: from-a-block-123"
    assert render("${github_token}") == "from-a-block-123"


def test_secret_provider_needs_no_import_of_blocks_by_secrets_module() -> None:
    source = (Path(__file__).resolve().parents[2] / "prefect_storage" / "secrets.py").read_text()
    assert "import prefect_storage.blocks" not in source and "from prefect_storage.blocks" not in source


def test_forge_credentials_conventions() -> None:
    from urllib.parse import urlsplit

    def userinfo(block: object) -> tuple[str | None, str | None]:
        parts = urlsplit(block.format_git_credentials("https://host/org/repo.git"))  # type: ignore[attr-defined]
        return parts.username, parts.password

    assert userinfo(GitHubCredentials(token="ghp_1")) == ("x-access-token", "ghp_1")
    assert userinfo(GitLabCredentials(token="glpat-1")) == ("oauth2", "glpat-1")
    assert userinfo(GitLabCredentials(token="deploy-user:gldt-1")) == ("deploy-user", "gldt-1")
    from prefect_storage.blocks.bitbucket import BitBucketCredentials

    assert userinfo(BitBucketCredentials(token="x-token-auth:abc_123")) == ("x-token-auth", "abc_123")
    assert userinfo(BitBucketCredentials(token="abc_123")) == ("x-token-auth", "abc_123")
    assert userinfo(BitBucketCredentials(token="app-pw", username="me")) == ("me", "app-pw")


def test_secret_str_cannot_be_pickled() -> None:
    import copy
    import pickle

    block = Secret(value="no-pickles-here")
    assert copy.deepcopy(block).get() == "no-pickles-here"
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(block)


def _cli(args: list[str], input: str | None = None) -> object:
    from prefect_storage.cli import cli

    return CliRunner().invoke(cli, args, input=input, catch_exceptions=False)


def test_block_cli_create_ls_inspect_delete() -> None:
    result = _cli(["block", "create", "secret", "cli-token"], input="value-from-stdin-9\n")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert Secret.load("cli-token").get() == "value-from-stdin-9"
    listed = _cli(["block", "ls", "--json"])
    assert [(d["type"], d["name"]) for d in json.loads(listed.output)] == [("secret", "cli-token")]  # type: ignore[attr-defined]
    shown = _cli(["block", "inspect", "secret/cli-token"])
    assert "value-from-stdin-9" not in shown.output and "********" in shown.output  # type: ignore[attr-defined]
    assert _cli(["block", "delete", "secret/cli-token"]).exit_code == 0  # type: ignore[attr-defined]
    assert _cli(["block", "inspect", "secret/cli-token"]).exit_code == 3  # type: ignore[attr-defined]
    assert _cli(["block", "types"]).exit_code == 0  # type: ignore[attr-defined]
    assert os.environ.get("PREFECT_STORAGE_HOME")
