"""``$NAME`` / ``${NAME}`` templates, the secret lookup chain, and redaction.

Any string setting of a storage or result may hold a template. It is rendered at
the moment of use (``build``, ``get_flow``, a request), never at construction, so
the template, not the value, is what ``serialize()``, ``repr()`` and pickles keep::

    >>> import os; os.environ["BUCKET"] = "flows-prod"
    >>> render("s3://${BUCKET}/etl and $$5")
    's3://flows-prod/etl and $5'

A name is looked up, first hit wins, in:

1. the environment variable ``NAME``;
2. the secrets an agent passed to the current run (:func:`run_secrets`);
3. the ``secrets`` of the run context, the classic way to give local secrets:
   ``with prefect_storage.context(secrets={"NAME": "value"}): ...``;
4. the classic ``PREFECT__CONTEXT__SECRETS__NAME`` environment variable;
5. the ``[context.secrets]`` table of ``<home>/config.toml`` (refused when group or
   world readable);
6. secret providers, such as AWS Secrets Manager, enabled with
   ``PREFECT_STORAGE_SECRET_PROVIDERS=aws-secrets-manager`` or :func:`add_secret_provider`.

Every value resolved here is remembered for the life of the process and replaced
by ``***`` wherever :func:`redact` runs: in every ``prefect_storage`` exception
message and every record logged through :func:`get_logger` (see :mod:`prefect_storage.log`).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import re
import stat
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from prefect_storage import config
from prefect_storage.exceptions import SecretNotFoundError, StorageConfigError
from prefect_storage.redaction import (
    MIN_REDACTED_LENGTH,
    REDACTED,
    _strings,
    has_revealed_secrets,
    redact,
    remember_secret,
)

if TYPE_CHECKING:
    import logging

__all__ = [
    "MIN_REDACTED_LENGTH",
    "REDACTED",
    "Secret",
    "SecretProvider",
    "add_secret_provider",
    "find",
    "get_logger",
    "has_revealed_secrets",
    "redact",
    "remember_secret",
    "render",
    "resolve",
    "run_secrets",
    "template_names",
]


_TEMPLATE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")

# ---------------------------------------------------------------------------- redaction
# Lives in prefect_storage.redaction (so log.py needs nothing from here); re-exported.


def get_logger(name: str) -> logging.Logger:
    """A logger under ``prefect_storage`` whose records are redacted (see :mod:`prefect_storage.log`)."""
    from prefect_storage.log import get_logger as _get_logger

    return _get_logger(name)


# ---------------------------------------------------------------------------- lookup chain


@runtime_checkable
class SecretProvider(Protocol):
    """Something that can look up a secret by name (e.g. a cloud secret manager)."""

    #: shown in "looked in ..." messages, e.g. ``"AWS Secrets Manager (us-east-1)"``
    description: str

    def get(self, name: str) -> str | None:
        """The secret's value, or ``None`` when this provider does not have it."""


# Built-in providers by the name used in PREFECT_STORAGE_SECRET_PROVIDERS. Imported on
# first use only, so the SDK behind a provider is never imported for nothing.
BUILTIN_PROVIDERS: dict[str, str] = {
    "aws-secrets-manager": "prefect_storage.backends.aws_secrets:AWSSecretsManagerProvider",
    # Secret blocks saved in the registry (on by default once prefect_storage.blocks is imported)
    "blocks": "prefect_storage.blocks.provider:BlockSecretProvider",
}

_extra_providers: list[SecretProvider] = []
_run_secrets: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "prefect_storage_run_secrets", default=MappingProxyType({})
)


def add_secret_provider(provider: SecretProvider) -> None:
    """Append ``provider`` to the end of the lookup chain for this process."""
    _extra_providers.append(provider)


def remove_secret_provider(provider: SecretProvider) -> None:
    """Undo :func:`add_secret_provider`."""
    _extra_providers.remove(provider)


@contextlib.contextmanager
def run_secrets(values: Mapping[str, Any]) -> Iterator[None]:
    """Make ``values`` visible to the lookup chain for the duration of a run.

    The agent uses this to hand a flow run the secrets its storage lists.
    """
    for value in values.values():
        if isinstance(value, str):
            remember_secret(value)
    token = _run_secrets.set({**_run_secrets.get(), **values})
    try:
        yield
    finally:
        _run_secrets.reset(token)


def _configured_providers() -> list[SecretProvider]:
    names = config.secret_providers()
    providers: list[SecretProvider] = []
    for name in names:
        target = BUILTIN_PROVIDERS.get(name, name)
        if ":" not in target:
            raise StorageConfigError(
                f"Unknown secret provider {name!r} in PREFECT_STORAGE_SECRET_PROVIDERS; "
                f"use one of {sorted(BUILTIN_PROVIDERS)} or 'package.module:Class'."
            )
        providers.append(_provider_instance(target))
    return providers + _extra_providers


_provider_cache: dict[str, SecretProvider] = {}


def _provider_instance(target: str) -> SecretProvider:
    if target not in _provider_cache:
        import importlib

        module_name, _, attr = target.partition(":")
        _provider_cache[target] = getattr(importlib.import_module(module_name), attr)()
    return _provider_cache[target]


_secrets_file_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def secrets_file_path() -> str:
    return str(config.home_path() / "config.toml")


def _secrets_from_file() -> dict[str, Any]:
    path = secrets_file_path()
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return {}
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise StorageConfigError(
            f"Refusing to read secrets from {path}: it is readable by other users "
            f"(mode {stat.S_IMODE(info.st_mode):o}). Run: chmod 600 {path}"
        )
    cached = _secrets_file_cache.get(path)
    if cached and cached[0] == info.st_mtime:
        return cached[1]
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    with open(path, "rb") as fh:
        try:
            document = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise StorageConfigError(f"{path} is not valid TOML: {exc}") from None
    table = document.get("context", {}).get("secrets", {})
    _secrets_file_cache[path] = (info.st_mtime, table)
    return dict(table)


def _context_secrets() -> Mapping[str, Any]:
    """``context.secrets`` of the current run. Reached through the package attribute
    (``prefect_storage.context``), which is already loaded whenever a context is set,
    so this ground-floor module imports nothing above it."""
    import sys

    package = sys.modules.get("prefect_storage")
    context = getattr(package, "context", None)
    values = context.get("secrets") if context is not None and hasattr(context, "get") else None
    return values if isinstance(values, Mapping) else {}


def _lookup(name: str, *, include_plain_env: bool) -> tuple[Any, list[str]]:
    """Walk the chain; return (value or None, descriptions of the places searched)."""
    searched: list[str] = []
    if include_plain_env:
        searched.append(f"environment variable {name}")
        if name in os.environ:
            return os.environ[name], searched
    searched.append("the secrets passed to this run")
    run_values = _run_secrets.get()
    if name in run_values:
        return run_values[name], searched
    searched.append("the run context's secrets (prefect_storage.context(secrets=...))")
    context_values = _context_secrets()
    if name in context_values:
        return context_values[name], searched
    classic = f"PREFECT__CONTEXT__SECRETS__{name}"
    searched.append(f"environment variable {classic}")
    if classic in os.environ:
        return os.environ[classic], searched
    searched.append(f"[context.secrets] in {secrets_file_path()}")
    table = _secrets_from_file()
    if name in table:
        return table[name], searched
    for provider in _configured_providers():
        searched.append(provider.description)
        value = provider.get(name)
        if value is not None:
            return value, searched
    return None, searched


def find(name: str) -> str | None:
    """Like :func:`resolve`, but ``None`` when no place has a value for ``name``."""
    value, _ = _lookup(name, include_plain_env=True)
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value)
    remember_secret(text)
    return text


def resolve(name: str) -> str:
    """The raw string value of secret ``name``, looked up through the whole chain.

    Raises :class:`SecretNotFoundError` naming every place searched.
    """
    value, searched = _lookup(name, include_plain_env=True)
    if value is None:
        raise SecretNotFoundError(f"Secret {name!r} was not found; looked in: " + "; ".join(searched) + ".")
    text = value if isinstance(value, str) else json.dumps(value)
    remember_secret(text)
    return text


class Secret:
    """A named secret, looked up when :meth:`get` is called (classic ``prefect.client.Secret``).

    ``Secret("GITHUB_ACCESS_TOKEN").get()`` searches the chain described in this
    module's docstring, and returns the JSON-decoded value when the value is JSON
    (``'{"a": 1}'`` gives a dict), else the string, like the classic API.
    """

    def __init__(self, name: str) -> None:
        if not name:
            raise ValueError("A secret name must be provided.")
        self.name = name

    def __repr__(self) -> str:
        return f"<Secret: {self.name}>"

    def exists(self) -> bool:
        """Whether the chain has a value for this name."""
        return _lookup(self.name, include_plain_env=True)[0] is not None

    def get(self) -> Any:
        from prefect_storage.context import building_flow

        if building_flow():
            raise ValueError("Secrets should only be retrieved during a Flow run, not while building a Flow.")
        raw = resolve(self.name)
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, TypeError):
            return raw


# ---------------------------------------------------------------------------- templating


def template_names(value: Any) -> list[str]:
    """Names referenced by ``$NAME`` / ``${NAME}`` anywhere in ``value`` (recursing into
    dicts, lists and tuples), in order of first appearance."""
    names: dict[str, None] = {}
    for text in _strings(value):
        for match in _TEMPLATE.finditer(text):
            name = match.group("braced") or match.group("named")
            if name:
                names.setdefault(name)
    return list(names)


def render(value: Any) -> Any:
    """Resolve every ``$NAME`` / ``${NAME}`` in ``value``; ``$$`` becomes ``$``.

    Strings are rendered; dicts, lists and tuples are rendered recursively (keys are
    left as they are); anything else is returned unchanged. A ``$`` not followed by
    a name is kept literally. A missing name raises :class:`SecretNotFoundError`
    naming it and the places searched.
    """
    if isinstance(value, str):
        if "$" not in value:
            return value
        return _TEMPLATE.sub(_substitute, value)
    if isinstance(value, Mapping):
        return {key: render(item) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item) for item in value]
    if isinstance(value, tuple):
        return tuple(render(item) for item in value)
    return value


def _substitute(match: re.Match[str]) -> str:
    if match.group("escaped"):
        return "$"
    return resolve(match.group("braced") or match.group("named"))
