"""Templating, the secret lookup chain, redaction."""

from __future__ import annotations

import logging
import os
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prefect_storage import Flow
from prefect_storage.exceptions import SecretNotFoundError, StorageConfigError, StorageError
from prefect_storage.log import get_logger
from prefect_storage.secrets import (
    Secret,
    add_secret_provider,
    redact,
    remember_secret,
    remove_secret_provider,
    render,
    resolve,
    run_secrets,
    template_names,
)


def test_dollar_name_and_braces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUCKET", "flows-prod")
    assert render("s3://$BUCKET/a") == "s3://flows-prod/a"
    assert render("s3://${BUCKET}x") == "s3://flows-prodx"
    assert render("price $$5 and $") == "price $5 and $"
    assert render("$1 stays") == "$1 stays"


def test_render_recurses_into_dicts_lists_and_tuples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", "tok-123")
    value = {"headers": {"Authorization": "Bearer ${TOKEN}"}, "list": ["$TOKEN", 3, ("${TOKEN}",)], "n": 1}
    assert render(value) == {"headers": {"Authorization": "Bearer tok-123"}, "list": ["tok-123", 3, ("tok-123",)], "n": 1}
    assert template_names(value) == ["TOKEN"]


def test_missing_name_says_where_it_looked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    with pytest.raises(SecretNotFoundError) as info:
        render("x-${NOPE_NOT_SET}")
    text = str(info.value)
    assert "'NOPE_NOT_SET'" in text
    assert "environment variable NOPE_NOT_SET" in text
    assert "PREFECT__CONTEXT__SECRETS__NOPE_NOT_SET" in text
    assert "config.toml" in text
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError) and isinstance(info.value, StorageError)


def test_chain_order(monkeypatch: pytest.MonkeyPatch, _isolated_home: Path) -> None:
    (_isolated_home / "config.toml").write_text('[context.secrets]\nNAME = "from-file"\n')
    os.chmod(_isolated_home / "config.toml", 0o600)
    assert resolve("NAME") == "from-file"
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__NAME", "from-classic-env")
    assert resolve("NAME") == "from-classic-env"
    with run_secrets({"NAME": "from-run"}):
        assert resolve("NAME") == "from-run"
        monkeypatch.setenv("NAME", "from-env")
        assert resolve("NAME") == "from-env"


def test_secrets_file_refused_when_readable_by_others(_isolated_home: Path) -> None:
    path = _isolated_home / "config.toml"
    path.write_text('[context.secrets]\nNAME = "v"\n')
    os.chmod(path, 0o644)
    with pytest.raises(StorageConfigError, match="chmod 600"):
        resolve("NAME")


def test_provider_is_last_and_named_in_errors() -> None:
    class Vault:
        description = "the test vault"

        def get(self, name: str) -> str | None:
            return {"FROM_VAULT": "vault-value"}.get(name)

    vault = Vault()
    add_secret_provider(vault)
    try:
        assert resolve("FROM_VAULT") == "vault-value"
        with pytest.raises(SecretNotFoundError, match="the test vault"):
            resolve("NOT_IN_VAULT")
    finally:
        remove_secret_provider(vault)


def test_unknown_provider_name_is_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_STORAGE_SECRET_PROVIDERS", "nonsense")
    with pytest.raises(StorageConfigError, match="Unknown secret provider 'nonsense'"):
        resolve("ANYTHING_MISSING")


def test_secret_get_json_decodes_like_classic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__CREDS", '{"a": 1}')
    monkeypatch.setenv("PREFECT__CONTEXT__SECRETS__Plain", "hello there")
    assert Secret("CREDS").get() == {"a": 1}
    assert Secret("Plain").get() == "hello there"  # the name keeps its case
    assert Secret("CREDS").exists() and not Secret("MISSING_X").exists()


def test_secret_get_inside_flow_block_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_SECRET", "value")
    with Flow("building"), pytest.raises(ValueError, match="only be retrieved during a Flow run"):
        Secret("SOME_SECRET").get()


def test_resolved_values_are_redacted_in_errors_and_logs(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("API_TOKEN", "s3cr3t-token-value")
    rendered = render("Bearer ${API_TOKEN}")
    assert rendered == "Bearer s3cr3t-token-value"
    assert redact(f"header was {rendered}") == "header was Bearer ***"
    assert "s3cr3t" not in str(StorageError(f"request failed with {rendered}"))
    with caplog.at_level(logging.INFO):
        get_logger("test").info("sending %s", rendered)
    assert "s3cr3t" not in caplog.text and "Bearer ***" in caplog.text


def test_short_values_are_not_redacted() -> None:
    remember_secret("ab")
    assert redact("ab cd") == "ab cd"


NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -/:.{}", max_size=20)


@given(parts=st.lists(st.tuples(TEXT, NAME, st.booleans()), max_size=5), tail=TEXT)
def test_render_property(parts: list[tuple[str, str, bool]], tail: str) -> None:
    """Rendering substitutes exactly the referenced names, braced or not."""
    env = {}
    template, expected = "", ""
    for i, (text, name, braced) in enumerate(parts):
        value = f"<v{i}>"
        env[name] = env.get(name, value)
        safe_text = text.replace("$", "")
        template += safe_text + ("${" + name + "}" if braced else "$" + name + "/")
        expected += safe_text + env[name] + ("" if braced else "/")
    template += tail.replace("$", "")
    expected += tail.replace("$", "")
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert render(template) == expected
        assert template_names(template) == list(dict.fromkeys(n for _, n, _ in parts))
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@given(st.text(max_size=40))
def test_escaped_dollars_round_trip(text: str) -> None:
    """`$$` always renders to one `$`: any text survives escaping."""
    assert render(text.replace("$", "$$")) == text
